"""The routing decision: which place a worry should reach. One function, ``decide``, used by the
bot's actions and by ``make eval`` alike; it reads a Rasa parse result (a plain dict).

Evidence: the lexicons (``field`` entities, danger findings), the calibrated classifiers
(``text_models``: danger, its kinds, fields) and DIET's intent. Rules, in order
(docs/routing-spec.md):
1. danger (a lexicon finding, or a model positive outside the listed false-alarm patterns)
   -> ``emergency``;
2. one centre clearly owns the request (DIET sure of one field's intent, that field found, no
   in-between field) -> that centre, even when another field is named in passing;
3. an in-between field (ひきこもり, 8050, ヤングケアラー, ...), or two or more main fields -> ``sogo``;
4. one main field -> that field's agency;
5. DIET's ``worry_complex`` or "I don't know where to ask" with no field -> ``sogo``;
6. ``out_of_scope`` with no field -> ``out_of_scope``;
7. otherwise -> ``clarify``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from bot.core.directory import get_directory
from bot.core.fields import BETWEEN_FIELDS, CHILD_CONTEXT, FIELD_LABELS, MAIN_FIELDS, WEAK_BETWEEN_FIELDS, WORRY_INTENT_FIELD
from bot.core.easy import TO_EASY, TO_PLAIN, switch_of
from bot.core.intake import command_of
from bot.core.language import detect_language, is_foreign
from bot.core.textnorm import has_japanese, looks_unusable

CONVERSATION_COMMANDS = ("stop", "start_over")
EASY_MODE_INTENTS = {TO_EASY: "easy_on", TO_PLAIN: "easy_off"}

FALLBACK_INTENT = "nlu_fallback"
_DIGITS_ONLY = re.compile(r"^[\d\s\-‐－ー−()（）+＋#＃]+$")


@dataclass(frozen=True)
class Thresholds:
    """The numbers the decision turns on (chosen on the project's own evaluation data,
    ``make eval`` prints what they give)."""
    crisis_intent: float = 0.80  # DIET's crisis alone opens the crisis answer from here
    danger_model: float = 0.80  # the danger classifier alone, likewise
    danger_model_negated: float = 0.97  # ... when the lexicon's only hits were negated
    danger_kind: float = 0.30  # a model-found danger takes its kind from here, else "general"
    field_model: float = 0.55  # the field classifier adds a field from here
    field_model_second: float = 0.75  # ... a second main field beside a clearer one
    between_model: float = 0.80  # ... an in-between field (ひきこもり, 8050) without the lexicon
    field_intent: float = 0.45  # the intent classifier's field intent adds its field from here
    owner_intent: float = 0.80  # the intent classifier this sure of one field owns the request (tie-break 2)
    complex_intent: float = 0.50  # worry_complex from here sends one field plus a likely second to sogo
    complex_second: float = 0.35  # ... "likely": the second field's score from here
    complex_over_one_field: float = 0.75  # worry_complex this sure sends one named field to sogo
    out_of_scope_over_fields: float = 0.55  # out_of_scope this sure wins over fields named in passing (0.75 before round 4; swept on the own sets)


DEFAULT = Thresholds()


def guard_intent(intent: dict, ranking: List[dict], entities: List[dict], text: str,
                 danger: Optional[dict] = None, models: Optional[dict] = None,
                 limits: Thresholds = DEFAULT) -> dict:
    """The intent after the danger guard: any danger positive wins, weak or excused ones do not.

    - a ``crisis_kind`` lexicon finding makes it ``crisis`` (confidence 1.0);
    - text no parser can use (emoji or punctuation only, digits alone) becomes ``nlu_fallback``;
    - ``stop`` and ``start_over`` only for the whole-message commands of bot/intake.yml;
    - DIET's or the danger model's positive makes it ``crisis`` unless an idiom, the past,
      mourning or a frame is in the text (``danger.listed_pattern``);
    - DIET's own ``crisis`` below its threshold falls back to the next intent.
    """
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if any(e.get("entity") == "crisis_kind" for e in entities):
        return {"name": "crisis", "confidence": 1.0}
    typed = bool(text) and not text.startswith("/")  # the resident's words, not a button payload
    command = command_of(text) if typed else None
    if command in CONVERSATION_COMMANDS:
        return {"name": command, "confidence": 1.0}
    switch = switch_of(text) if typed else None
    if switch:
        return {"name": EASY_MODE_INTENTS[switch], "confidence": 1.0}
    switches = tuple(EASY_MODE_INTENTS.values())
    if name in CONVERSATION_COMMANDS + switches and typed:
        # 「仕事をやめたい」, 「最初から話すと…」 and 「やさしい日本語の資料は？」 are not commands:
        # the next guess instead.
        runner_up = next((r for r in ranking if r.get("name") not in
                          CONVERSATION_COMMANDS + switches + ("crisis", FALLBACK_INTENT, None)), None)
        name, confidence = (runner_up["name"], runner_up["confidence"]) if runner_up else (FALLBACK_INTENT, 0.0)
        intent = {"name": name, "confidence": confidence}
    if looks_unusable(text) or _DIGITS_ONLY.match(text):
        # Digits alone (a phone number typed into the form, "123") carry no intent; the
        # classifier would guess "emergency_info" from 110 / 119.
        return {"name": FALLBACK_INTENT, "confidence": 1.0}
    model_danger = model_danger_confidence(ranking, danger or {}, models or {}, limits, text)
    if model_danger is not None:
        return {"name": "crisis", "confidence": model_danger}
    if typed and is_foreign(detect_language(text)):
        # Another language: the classifier learned Japanese, so its greet / out_of_scope guess
        # is noise; the worry path answers in the resident's language (action_route_worry).
        return {"name": FOREIGN_LANGUAGE_INTENT, "confidence": 1.0}
    if name == "crisis":
        runner_up = next((r for r in ranking if r.get("name") not in ("crisis", FALLBACK_INTENT, None)), None)
        return ({"name": runner_up["name"], "confidence": runner_up["confidence"]} if runner_up
                else {"name": FALLBACK_INTENT, "confidence": 0.0})
    return intent


FOREIGN_LANGUAGE_INTENT = "vague"
MIN_MODEL_DANGER_CHARS = 6  # 「夜」 or 「はい」 cannot tell danger by itself; the lexicon still can


def model_danger_confidence(ranking: List[dict], danger: dict, models: dict, limits: Thresholds = DEFAULT,
                            text: str = "") -> Optional[float]:
    """The models' danger confidence when it counts, else None."""
    if danger.get("listed_pattern") or len(text.strip()) < MIN_MODEL_DANGER_CHARS:
        return None
    if text and not has_japanese(text):
        # The models learned Japanese (and Chinese shares its characters); in English, Korean,
        # Nepali, Vietnamese, Tagalog or Indonesian their score does not separate a worry about
        # rent from danger, so only the lexicon's patterns in those languages count.
        return None
    only_negated = bool(danger.get("cancelled")) and all(c.get("reason") == "negated" for c in danger["cancelled"])
    diet = next((float(r.get("confidence") or 0) for r in ranking if r.get("name") == "crisis"), 0.0)
    model = float(models.get("danger") or 0.0)
    diet_limit = limits.danger_model_negated if only_negated else limits.crisis_intent
    model_limit = limits.danger_model_negated if only_negated else limits.danger_model
    if diet >= diet_limit or model >= model_limit:
        return max(diet, model)
    return None


@dataclass
class Decision:
    route: str
    fields: List[str]
    main_field: Optional[str]
    crisis_kinds: List[str] = field(default_factory=list)
    crisis_phrases: List[str] = field(default_factory=list)
    urgency: str = "low"
    urgency_phrases: List[str] = field(default_factory=list)
    reason: str = ""
    intent: str = ""
    sogo_because: str = ""  # "fields" (two or more found), "between", "unknown" (no field) or ""
    distress: bool = False


def _field_route() -> Dict[str, str]:
    """Main field -> agency, from directory/agencies.yml (its one home)."""
    return get_directory().field_route


def _entities(parse: dict, name: str) -> List[dict]:
    return [e for e in parse.get("entities") or [] if e.get("entity") == name]


def _unique(values: Iterable[str]) -> List[str]:
    out: List[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def _model_intent(parse: dict) -> Tuple[str, float]:
    """The classifier's best non-crisis intent: what the worry is about, even when the danger
    guard put ``crisis`` on top."""
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    for candidate in ranking:
        if candidate.get("name") not in (None, "", "crisis", FALLBACK_INTENT):
            return candidate["name"], float(candidate.get("confidence") or 0.0)
    return "", 0.0


def _lexicon_fields(found: List[str]) -> List[str]:
    """Fields from lexicon labels. ``child_context`` (a child's age or school stage) counts as
    ``child`` unless the worry is the child's disability: ぱすてる serves 障がい児 alone."""
    fields = [f for f in found if f != CHILD_CONTEXT]
    if CHILD_CONTEXT in found and "child" not in fields and "disability" not in fields:
        fields.append("child")
    return fields


def _crisis(parse: dict, limits: Thresholds) -> Tuple[List[str], List[str]]:
    """(kinds, phrases) of danger in the parse; kinds empty when there is none."""
    entities = _entities(parse, "crisis_kind")
    # The danger detector's kinds when there (they include the abuse a sexual assault of a child
    # or an older person also is), else those of the entities.
    kinds = _unique(((parse.get("danger") or {}).get("kinds") or []) + [e.get("value") for e in entities])
    phrases = _unique(e.get("text") for e in entities)
    intent = parse.get("intent") or {}
    if kinds or intent.get("name") != "crisis":
        return kinds, phrases
    scores = (parse.get("text_models") or {}).get("kinds") or {}
    best = max(scores.items(), key=lambda kv: kv[1], default=(None, 0.0))
    return ([best[0]] if best[0] and best[1] >= limits.danger_kind else ["general"]), phrases


def _field_scores(parse: dict, model_intent: str, model_confidence: float,
                  limits: Thresholds) -> Tuple[Dict[str, float], List[str]]:
    """How sure each field is (lexicon 1.0, the field classifier's probability, DIET's field
    intent), and the fields the lexicon named."""
    lexicon = _lexicon_fields(_unique(e.get("value") for e in _entities(parse, "field")))
    scores: Dict[str, float] = {f: p for f, p in ((parse.get("text_models") or {}).get("fields") or {}).items()
                                if f in MAIN_FIELDS or f in BETWEEN_FIELDS}
    intent_field = WORRY_INTENT_FIELD.get(model_intent)
    if intent_field and model_confidence >= limits.field_intent:
        scores[intent_field] = max(scores.get(intent_field, 0.0), max(model_confidence, limits.field_model))
    for f in lexicon:
        scores[f] = 1.0
    return scores, lexicon


def _found(scores: Dict[str, float], limits: Thresholds) -> List[str]:
    """Fields that count, the likeliest first: a main field from ``field_model`` (a second one
    from ``field_model_second``), an in-between field from ``between_model`` (the lexicon's 1.0
    always)."""
    found: List[str] = []
    for name, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        if name in BETWEEN_FIELDS:
            needed = limits.between_model
        elif any(f in MAIN_FIELDS for f in found):
            needed = limits.field_model_second
        else:
            needed = limits.field_model
        if score >= needed:
            found.append(name)
    return found


CHAT_INTENTS = ("greet", "goodbye", "thanks", "affirm", "deny", "emergency_info", "faq", "stop", "start_over",
                "easy_on", "easy_off")


def decide(parse: dict, previous_fields: Iterable[str] = (), limits: Thresholds = DEFAULT) -> Decision:
    intent = (parse.get("intent") or {}).get("name") or ""
    model_intent, model_confidence = _model_intent(parse)
    crisis_kinds, crisis_phrases = _crisis(parse, limits)
    scores, lexicon_fields = _field_scores(parse, model_intent, model_confidence, limits)
    new_fields = _found(scores, limits)
    all_fields = _unique(list(previous_fields) + new_fields)
    main_fields = [f for f in all_fields if f in MAIN_FIELDS]
    between = [f for f in all_fields if f in BETWEEN_FIELDS]
    strong_between = [f for f in between if f not in WEAK_BETWEEN_FIELDS]
    intent_field = WORRY_INTENT_FIELD.get(model_intent)
    complex_sure = model_intent == "worry_complex" and model_confidence >= limits.complex_over_one_field
    complex_intent = model_intent == "worry_complex" and model_confidence >= limits.complex_intent
    owner = (intent_field if intent_field and model_confidence >= limits.owner_intent and intent_field in new_fields
             and not strong_between and not previous_fields else None)
    runner_up = next((f for f, v in sorted(scores.items(), key=lambda kv: -kv[1])
                      if f in MAIN_FIELDS and f not in main_fields and v >= limits.complex_second), None)
    lexicon_between = [f for f in strong_between if f in lexicon_fields and f not in ("foreign", "dv_abuse")]
    out_of_scope = (model_intent == "out_of_scope" and model_confidence >= limits.out_of_scope_over_fields
                    and not lexicon_between and not previous_fields)
    dont_know = model_intent == "dont_know" and not main_fields and not between

    sogo_because = ""
    field_route = _field_route()
    if crisis_kinds:
        route = "emergency"
        reason = "危険のサイン: " + ("、".join(crisis_phrases) or "分類モデルが危険と判定")
    elif out_of_scope:
        route = "out_of_scope"
        reason = "市の手続きなどの質問（福祉の相談ではない）"
    elif owner:
        route = field_route[owner]
        reason = "1つの分野が相談の中心: " + FIELD_LABELS[owner]
    elif strong_between or (between and not main_fields):
        route, sogo_because = "sogo", "between"
        reason = "制度の狭間の相談: " + "、".join(FIELD_LABELS[f] for f in between)
    elif len(main_fields) >= 2:
        route, sogo_because = "sogo", "fields"
        reason = "複数の分野: " + "、".join(FIELD_LABELS[f] for f in main_fields)
    elif complex_intent and main_fields and (runner_up or complex_sure):
        if runner_up:
            all_fields.append(runner_up)
        route, sogo_because = "sogo", "fields" if runner_up else "unknown"
        reason = "複合的な相談（分類モデル）: " + "、".join(FIELD_LABELS[f] for f in all_fields if f in FIELD_LABELS)
    elif main_fields:
        route = field_route[main_fields[0]]
        reason = "1つの分野: " + FIELD_LABELS[main_fields[0]]
    elif complex_intent or dont_know:
        route, sogo_because = "sogo", "unknown"
        reason = "相談先が分からない相談" if dont_know else "複合的な相談（分類モデル）"
    elif model_intent == "out_of_scope" or (model_intent in CHAT_INTENTS and intent != "crisis"):
        route = "out_of_scope"
        reason = "市の手続きなどの質問（福祉の相談ではない）"
    else:
        route = "clarify"
        reason = "判断に必要な情報が足りない"

    urgency_entities = _entities(parse, "urgency")
    high = [e.get("text") for e in urgency_entities if e.get("value") == "high"]
    medium = [e.get("text") for e in urgency_entities if e.get("value") == "medium"]
    if crisis_kinds or high:
        urgency, urgency_phrases = "high", _unique(crisis_phrases + high)
    elif medium or route == "sogo":
        urgency, urgency_phrases = "medium", _unique(medium)
    else:
        urgency, urgency_phrases = "low", []
    distress = bool(_entities(parse, "distress")) and not crisis_kinds
    main_field = (new_fields or all_fields or [None])[0]
    if route in field_route.values():
        main_field = next(f for f, r in field_route.items() if r == route)
    return Decision(route=route, fields=all_fields, main_field=main_field if all_fields else None,
                    crisis_kinds=crisis_kinds, crisis_phrases=crisis_phrases, urgency=urgency,
                    urgency_phrases=urgency_phrases, reason=reason, intent=intent, sogo_because=sogo_because,
                    distress=distress)
