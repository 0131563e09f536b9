"""Field and route vocabulary shared by the NLU, the dialogue, the store and the staff pages."""

MAIN_FIELDS = ("elderly", "disability", "child", "poverty")
BETWEEN_FIELDS = ("hikikomori", "isolation", "hoarding", "young_carer", "8050", "double_care",
                  "foreign", "dv_abuse")
ALL_FIELDS = MAIN_FIELDS + BETWEEN_FIELDS
# In-between fields that send a worry to 総合相談支援センター only when no main field owns it
# (育児で孤独 is a parenting worry; 一人で誰とも話さない is isolation).
WEAK_BETWEEN_FIELDS = ("isolation",)

FIELD_LABELS = {
    "elderly": "高齢・介護",
    "disability": "障がい",
    "child": "子ども・子育て・妊娠",
    "poverty": "生活困窮・仕事・借金",
    "hikikomori": "ひきこもり",
    "isolation": "社会的孤立",
    "hoarding": "ゴミ屋敷・ためこみ",
    "young_carer": "ヤングケアラー",
    "8050": "8050問題",
    "double_care": "ダブルケア（介護と子育て）",
    "foreign": "外国籍住民の困りごと",
    "dv_abuse": "DV・虐待",
}

ROUTES = ("kakehashi", "pastel", "kodomo", "seikatsu", "sogo", "emergency", "out_of_scope")
FIELD_ROUTE = {"elderly": "kakehashi", "disability": "pastel", "child": "kodomo", "poverty": "seikatsu"}

WORRY_INTENT_FIELD = {
    "worry_elderly": "elderly",
    "worry_disability": "disability",
    "worry_child": "child",
    "worry_poverty": "poverty",
}
CONSENT_LABELS = {"yes": "同意あり", "no": "同意なし", "not_asked": "未確認"}
URGENCY_LABELS = {"high": "高", "medium": "中", "low": "低"}
