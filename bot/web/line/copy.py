"""What the LINE channel itself says (everything else comes from Rasa, bot.core.replies and, for
texts both channels say, bot/web/texts.py)."""
from __future__ import annotations

from bot.core.directory import Directory
from bot.core.domain_texts import category_buttons
from bot.core.replies import emergency_lines_message
from bot.web.texts import EMPTY, too_long_text  # noqa: F401 (LINE's answers to refused input)

ONE_TO_ONE_NOTICE = (
    "ご相談は、1対1のトークでお受けしています。相談の内容を守るため、グループやトークルームでは"
    "お答えできません。このアカウントは退出します。\n"
    "相談したいときは、このアカウントを友だち追加して、1対1のトークで書いてください。")

# Non-text messages: what we could not read, then the same request for every kind.
_NOT_READABLE = {
    "sticker": "スタンプありがとうございます。",
    "image": "送ってくださり、ありがとうございます。ごめんなさい、写真や画像の中身は読み取れません。",
    "video": "送ってくださり、ありがとうございます。ごめんなさい、動画の中身は読み取れません。",
    "audio": "送ってくださり、ありがとうございます。ごめんなさい、音声は聞き取れません。",
    "file": "送ってくださり、ありがとうございます。ごめんなさい、ファイルは開けません。",
    "location": "送ってくださり、ありがとうございます。ごめんなさい、位置情報は使っていません。",
}
_PLEASE_WRITE = "困っていることを、ことばで書いてください。書くのが難しいときは、下のボタンから選べます。"

# The greeting's buttons, read from domain.yml utter_greet (their one home).
CATEGORY_BUTTONS = category_buttons()

FOLLOW_FALLBACK_GREETING = "友だち追加ありがとうございます。北斗市の「困りごと相談の案内」です。"

LINE_NOTICE_HEADING = (
    "LINEでのご相談について\n"
    "・LINEのお名前やIDは、相談先に伝えません。\n"
    "・命に関わるときは、すぐに下の番号へ電話してください。")


def not_readable_text(message_type: str) -> str:
    head = _NOT_READABLE.get(message_type, "送ってくださり、ありがとうございます。ごめんなさい、この形の"
                                           "メッセージは読み取れません。")
    return head + "\n" + _PLEASE_WRITE


def empty_text() -> str:
    return EMPTY


def line_notice_message(directory: Directory) -> dict:
    """Anonymity on LINE plus the emergency lines (as a hotlines message, shown with call buttons)."""
    return emergency_lines_message(directory, LINE_NOTICE_HEADING)
