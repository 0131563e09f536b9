"""Custom actions for the Rasa action server (``rasa run actions``). Thin: the logic lives in
``bot/`` (routing, replies, summary, store) and is shared with the web side."""
from bot.core.datacheck import check_data

check_data()  # a data file naming an unknown field, agency or kind stops the action server here
