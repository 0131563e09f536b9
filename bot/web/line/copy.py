"""What the LINE channel itself says (everything else comes from Rasa and bot.replies)."""
from __future__ import annotations

from bot.directory import Directory

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

# The same categories as the greeting's buttons (domain.yml utter_greet); a test checks that
# every payload is still an intent of the domain.
CATEGORY_BUTTONS = [
    {"title": "高齢・介護のこと", "payload": "/worry_elderly"},
    {"title": "障がいのこと", "payload": "/worry_disability"},
    {"title": "子ども・子育てのこと", "payload": "/worry_child"},
    {"title": "お金・仕事・借金のこと", "payload": "/worry_poverty"},
    {"title": "どこに相談したらいいか分からない", "payload": "/dont_know"},
    {"title": "緊急のとき", "payload": "/emergency_info"},
    {"title": "やさしい にほんご", "payload": "/easy_on"},
]

FOLLOW_FALLBACK_GREETING = "友だち追加ありがとうございます。北斗市の「困りごと相談の案内」です。"

LINE_NOTICE_HEADING = (
    "LINEでのご相談について\n"
    "・LINEのお名前やIDは、相談先に伝えません。\n"
    "・命に関わるときは、すぐに下の番号へ電話してください。")


def not_readable_text(message_type: str) -> str:
    head = _NOT_READABLE.get(message_type, "送ってくださり、ありがとうございます。ごめんなさい、この形の"
                                           "メッセージは読み取れません。")
    return head + "\n" + _PLEASE_WRITE


def too_long_text(max_chars: int) -> str:
    return f"メッセージが長すぎます。{max_chars}文字以内で、いくつかに分けて送ってください。"


def empty_text() -> str:
    return "メッセージが空です。困っていることを、ことばで書いてください。"


def line_notice_message(directory: Directory) -> dict:
    """Anonymity on LINE plus the emergency lines (as a hotlines message, shown with call buttons)."""
    lines = []
    for entry in directory.crisis_lines("general"):
        item = entry.as_dict() if hasattr(entry, "as_dict") else None
        if item:
            lines.append(item)
    text = LINE_NOTICE_HEADING + "\n" + "\n".join(f"・{l['name']}：{l['number']}（{l['hours']}）" for l in lines)
    return {"text": text, "custom": {"type": "hotlines", "heading": LINE_NOTICE_HEADING, "lines": lines, "text": text}}
