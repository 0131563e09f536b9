"""What the web side itself says to residents, for both channels (the widget's API and LINE):
refused input. Texts with a number in them are built in bot.core.replies (please_call_text,
rate_limited_text, unavailable_messages); LINE's own texts are in bot/web/line/copy.py."""
from __future__ import annotations

EMPTY = "メッセージが空です。困っていることを、ことばで書いてください。"
TOO_LONG = "メッセージが長すぎます。{max_chars}文字以内で、いくつかに分けて送ってください。"

# The widget's API only (LINE sends no malformed requests of these kinds).
BAD_JSON = "送信の形式が正しくありません。ページを読み込み直してください。"
BAD_SENDER = "会話の番号が正しくありません。ページを読み込み直してください。"
NOT_TEXT = "メッセージは文字で送ってください。"
CONTROL_CHARACTERS = "送れない文字が含まれています。文字だけで書いてください。"


def too_long_text(max_chars: int) -> str:
    return TOO_LONG.format(max_chars=max_chars)
