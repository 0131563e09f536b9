"""The assistant's fixed sentences, said by the actions (one home; the form's questions are in
bot/intake.yml, やさしい日本語 in directory/easy_japanese.yml, the greeting and short replies in
domain.yml's responses, the category buttons under domain.yml utter_greet). Sentences with a
number, an address or hours in them are built from the data in bot/core/replies.py."""
from __future__ import annotations

from bot.core.domain_texts import worry_buttons

# -- routing ------------------------------------------------------------------------------------
# Why 総合相談支援センター: said only as far as it is true (two fields found, an in-between
# worry, or no field named).
SOGO_EXPLANATIONS = {
    "fields": ("いくつかの困りごとが重なっているようです。{name}は、介護・障がい・子ども・お金など、"
               "分野をまたぐ相談を受けとめて、関係する窓口と一緒に支え方を考えるところです。"),
    "between": ("{name}は、ひきこもりや孤立、ヤングケアラーなど、どこか一つの窓口には当てはまりにくい相談も受けとめて、"
                "関係する窓口と一緒に支え方を考えるところです。"),
    "unknown": ("どこに相談したらよいか分からないときは、{name}が受けとめます。お話をうかがって、合った窓口と"
                "一緒に支え方を考えます。"),
}
AGENCY_INTRO = "こちらの窓口が相談にのってくれます。"
DISTRESS_INTRO = "ここまで、ひとりでがんばってこられたのですね。書いてくださって、ありがとうございます。"
NOT_IN_FORM = "いまは質問の途中ではありません。困っていることがあれば、自由に書いてください。"
ADDED = "このことも、受付番号「{ref}」の相談に書き加えて、センターに伝えます。"
NOT_ADDED = "ごめんなさい。いま書き加えられませんでした。お手数ですが、"  # + please_call_text
ANYTHING_ELSE = "ほかにも気になることはありますか。"
ANYTHING_ELSE_BUTTONS = [{"title": "ある", "payload": "/affirm"}, {"title": "ない", "payload": "/deny"}]
ASK_WHO = {"text": "もう少し教えてください。どなたのことで困っていますか。",
           "buttons": [{"title": "自分のこと", "payload": '/clarify_answer{"about": "self"}'},
                       {"title": "家族のこと", "payload": '/clarify_answer{"about": "family"}'},
                       {"title": "近所・知り合いのこと", "payload": '/clarify_answer{"about": "neighbour"}'}]}
ASK_WHAT_TEXT = "いちばん困っていることに近いものはどれですか。自由に書いても大丈夫です。"


def ask_what() -> dict:
    """Which worry: the greeting's category buttons that name one (domain.yml utter_greet)."""
    return {"text": ASK_WHAT_TEXT, "buttons": worry_buttons()}


# -- consent, read-back, saving (handoff_actions) ----------------------------------------------
CONSENT_QUESTION = ("よければ、ここでうかがったことをまとめて、センターに伝えます。まとめは、センターの職員が"
                    "支援を考えるためだけに使います。あなたが「はい」と言わなければ、伝えません。\n伝えてもよいですか。")
CONSENT_AGAIN = "このことをふまえて、まとめをセンターに伝えてもよいですか。"
CONSENT_BUTTONS = [{"title": "はい、伝えてください", "payload": "/affirm"},
                   {"title": "いいえ、電話番号だけでいい", "payload": "/deny"}]
CONSENT_DECLINED = "わかりました。まとめは伝えません。ご自分で相談するときは、こちらに電話してください。"
FORM_INTRO = ("ありがとうございます。いくつか質問します。答えたくない質問は「スキップ」でとばせます。"
              "前の質問にもどるときは「もどる」、途中でやめるときは「やめる」と書いてください。")
READ_BACK_BUTTONS = [{"title": "はい、送ります", "payload": "/affirm"},
                     {"title": "なおしたいところがある", "payload": "/correct"},
                     {"title": "送らない", "payload": "/deny"}]
WHICH_ITEM = "どこをなおしますか。"
NOT_SENT = "わかりました。内容はセンターに送りません。\n相談したいときは、"  # + please_call_text
STOP_QUESTION = "ここでやめます。ここまでの内容を、センターに送りますか。"
STOP_BUTTONS = [{"title": "ここまでで送る", "payload": "/affirm"}, {"title": "送らずに終わる", "payload": "/deny"}]
STOPPED = ("わかりました。ここでやめます。途中まで入力した内容は送っていません。\n"
           "相談したくなったら、いつでも書いてください。急ぐときは、")  # + please_call_text
NOT_SAVED = "ごめんなさい。いま記録を保存できませんでした。受付番号はお出しできません。\nお手数ですが、"  # + please_call_text
SAVED = "受け付けました。受付番号は「{ref}」です。"
NEXT_REACHABLE = ("センターの職員が内容を確認して、ご希望の方法で連絡するよう調整します。"
                  "連絡がないときや急ぐときは、受付番号を伝えて電話してください。")
NEXT_UNREACHABLE = "センターからは連絡先が分からないため、相談するときは受付番号を伝えて、電話するか窓口に来てください。"
NEXT_LINE_CONTACT = ("センターの職員が内容を確認して、このLINEで連絡するよう調整します。"
                     "連絡のために、このLINEのIDを暗号化して保存し、相談が終わったら消します。"
                     "連絡がいらなくなったら「連絡をやめる」と書いてください。すぐに消します。"
                     "急ぐときは、受付番号を伝えて電話してください。")

# -- danger (crisis_actions) -------------------------------------------------------------------
IN_FORM_CONTINUE = "落ち着いたら、さきほどの質問の続きに答えてください。やめるときは「やめる」と書いてください。"
AFTER_HANDOFF = "このことは、受付番号「{ref}」の相談に「急ぎ」として書き加え、センターの職員に伝えます。"

# -- the intake form's answers (intake_actions) ------------------------------------------------
RETRY = "ごめんなさい、うまく受け取れませんでした。ボタンから選ぶか、言葉で書いてください。答えたくないときは「スキップ」と書いてください。"
PHONE_RETRY = {
    "short": "電話番号のけたが足りないようです。もう一度たしかめて書いてください（例：090-0000-0000、0138-00-0000）。",
    "long": "電話番号のけたが多いようです。もう一度たしかめて書いてください（例：090-0000-0000、0138-00-0000）。",
    "no_zero": "電話番号は0から始まる形で書いてください（例：090-0000-0000、0138-00-0000）。",
    "none": "電話番号が見つかりませんでした。数字で書いてください（例：090-0000-0000）。書かないときは「スキップ」と書いてください。",
}
GIVE_UP = ("うまく受け取れなかったので、この質問はとばします。やめるときは「やめる」と書いてください。"
           "話して伝えたいときは、")  # + please_call_text
STORY_KEPT = "書いてくださったことは、そのまま相談の内容としてセンターに伝えます。"
FIRST_QUESTION = "いまが最初の質問です。"
NOT_YET = "あと少しだけ教えてください。「これで送る」は{number}問目から使えます。"
