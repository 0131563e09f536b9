"""Custom actions for the Rasa action server (``rasa run actions``). Thin: the logic lives in
``bot/`` (routing, replies, summary, store) and is shared with the web side."""
