"""The routing decision: which place a worry should reach. One function, ``decide``, used by the
bot's actions and by ``make eval`` alike; it reads a Rasa parse result (a plain dict).

Rules, in order (docs/routing-spec.md):
1. a crisis sign (lexicon entity ``crisis_kind`` or the ``crisis`` intent) -> ``emergency``;
2. two or more main fields (counting those of earlier turns), any in-between field, the
   ``worry_complex`` or ``dont_know`` intent -> ``sogo``;
3. one main field -> that field's agency;
4. ``out_of_scope`` intent with no field -> ``out_of_scope``;
5. otherwise -> ``clarify`` (ask who the worry is about and what is hardest).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, List, Optional

from bot.textnorm import looks_unusable
from bot.fields import BETWEEN_FIELDS, FIELD_LABELS, FIELD_ROUTE, MAIN_FIELDS, WORRY_INTENT_FIELD

# Below this the model's crisis intent alone does not open the crisis answer (the lexicon
# always does).
CRISIS_MIN_CONFIDENCE = 0.80
# The model's field intent is used alone from this confidence on ...
FIELD_INTENT_MIN_CONFIDENCE = 0.45
# ... and adds a second field to lexicon fields only from this one on.
EXTRA_FIELD_MIN_CONFIDENCE = 0.95
COMPLEX_MIN_CONFIDENCE = 0.50
COMPLEX_OVER_ONE_FIELD_MIN_CONFIDENCE = 0.75


FALLBACK_INTENT = "nlu_fallback"
_DIGITS_ONLY = re.compile(r"^[\d\s\-‐－ー−()（）+＋#＃]+$")


def guard_intent(intent: dict, ranking: List[dict], entities: List[dict], text: str) -> dict:
    """The intent after the crisis guard: any crisis positive wins, weak model crises do not.

    - a ``crisis_kind`` lexicon entity makes it ``crisis`` (confidence 1.0);
    - text no parser can use (emoji or punctuation only) becomes ``nlu_fallback``;
    - the model's own ``crisis`` below CRISIS_MIN_CONFIDENCE falls back to the next intent;
    - a fallback whose best guess is a confident ``crisis`` becomes ``crisis``.
    """
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if any(e.get("entity") == "crisis_kind" for e in entities):
        return {"name": "crisis", "confidence": 1.0}
    if looks_unusable(text) or _DIGITS_ONLY.match(text):
        # Digits alone (a phone number typed into the form, "123") carry no intent; the
        # classifier would guess "emergency_info" from 110 / 119.
        return {"name": FALLBACK_INTENT, "confidence": 1.0}
    if name == "crisis" and confidence < CRISIS_MIN_CONFIDENCE:
        runner_up = next((r for r in ranking if r.get("name") not in ("crisis", FALLBACK_INTENT, None)), None)
        return ({"name": runner_up["name"], "confidence": runner_up["confidence"]} if runner_up
                else {"name": FALLBACK_INTENT, "confidence": 0.0})
    if name == FALLBACK_INTENT:
        top = next((r for r in ranking if r.get("name") not in (FALLBACK_INTENT, None)), None)
        if top and top["name"] == "crisis" and top.get("confidence", 0) >= CRISIS_MIN_CONFIDENCE:
            return {"name": "crisis", "confidence": top["confidence"]}
    return intent


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



def _entities(parse: dict, name: str) -> List[dict]:
    return [e for e in parse.get("entities") or [] if e.get("entity") == name]


def _unique(values: Iterable[str]) -> List[str]:
    out: List[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out


def _model_intent(parse: dict) -> tuple:
    """The classifier's best non-crisis intent: what the worry is about, even when the crisis
    guard put ``crisis`` on top."""
    ranking = parse.get("intent_ranking") or [parse.get("intent") or {}]
    for candidate in ranking:
        if candidate.get("name") not in (None, "", "crisis", FALLBACK_INTENT):
            return candidate["name"], float(candidate.get("confidence") or 0.0)
    return "", 0.0


def _order_fields(fields: List[str], preferred: Optional[str]) -> List[str]:
    main = [f for f in fields if f in MAIN_FIELDS]
    between = [f for f in fields if f in BETWEEN_FIELDS]
    ordered = between + main
    if preferred in ordered:
        ordered.remove(preferred)
        ordered.insert(0, preferred)
    return ordered


def _lexicon_fields(found: List[str]) -> List[str]:
    """Fields from lexicon labels. ``child_context`` (a child's age or school stage) counts as
    ``child`` unless the worry is the child's disability: ぱすてる serves 障がい児 alone."""
    fields = [f for f in found if f != "child_context"]
    if "child_context" in found and "child" not in fields and "disability" not in fields:
        fields.append("child")
    return fields


def decide(parse: dict, previous_fields: Iterable[str] = ()) -> Decision:
    intent = (parse.get("intent") or {}).get("name") or ""
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    model_intent, model_confidence = _model_intent(parse)

    lexicon_fields = _lexicon_fields(_unique(e.get("value") for e in _entities(parse, "field")))
    crisis_entities = _entities(parse, "crisis_kind")
    crisis_kinds = _unique(e.get("value") for e in crisis_entities)
    crisis_phrases = _unique(e.get("text") for e in crisis_entities)
    urgency_entities = _entities(parse, "urgency")

    intent_field = WORRY_INTENT_FIELD.get(model_intent)
    fields = list(lexicon_fields)
    if intent_field and intent_field not in fields:
        threshold = EXTRA_FIELD_MIN_CONFIDENCE if fields else FIELD_INTENT_MIN_CONFIDENCE
        if model_confidence >= threshold:
            fields.append(intent_field)
    new_fields = _order_fields(fields, intent_field)
    all_fields = _unique(list(previous_fields) + new_fields)
    main_fields = [f for f in all_fields if f in MAIN_FIELDS]
    between = [f for f in all_fields if f in BETWEEN_FIELDS]
    main_field = (new_fields or all_fields or [None])[0]

    is_crisis = bool(crisis_kinds) or (intent == "crisis" and confidence >= CRISIS_MIN_CONFIDENCE)
    # The model's "complex" must be sure of itself to override one clearly named field.
    one_named_field = len([f for f in lexicon_fields if f in MAIN_FIELDS]) == 1 and not between
    complex_threshold = COMPLEX_OVER_ONE_FIELD_MIN_CONFIDENCE if one_named_field else COMPLEX_MIN_CONFIDENCE
    complex_intent = model_intent == "worry_complex" and model_confidence >= complex_threshold
    dont_know = model_intent == "dont_know" and not main_fields

    if is_crisis:
        route = "emergency"
        crisis_kinds = crisis_kinds or ["general"]
        reason = "危険のサイン: " + ("、".join(crisis_phrases) or "分類モデルが危機と判定")
    elif len(main_fields) >= 2:
        route = "sogo"
        reason = "複数の分野: " + "、".join(FIELD_LABELS[f] for f in main_fields)
    elif between:
        route = "sogo"
        reason = "制度の狭間の相談: " + "、".join(FIELD_LABELS[f] for f in between)
    elif complex_intent or dont_know:
        route = "sogo"
        reason = "相談先が分からない相談" if dont_know else "複合的な相談（分類モデル）"
    elif main_fields:
        route = FIELD_ROUTE[main_fields[0]]
        reason = "1つの分野: " + FIELD_LABELS[main_fields[0]]
    elif model_intent == "out_of_scope":
        route = "out_of_scope"
        reason = "市の手続きなどの質問（福祉の相談ではない）"
    else:
        route = "clarify"
        reason = "判断に必要な情報が足りない"

    high = [e.get("text") for e in urgency_entities if e.get("value") == "high"]
    medium = [e.get("text") for e in urgency_entities if e.get("value") == "medium"]
    if is_crisis or high:
        urgency, urgency_phrases = "high", _unique(crisis_phrases + high)
    elif medium or route == "sogo":
        urgency, urgency_phrases = "medium", _unique(medium)
    else:
        urgency, urgency_phrases = "low", []

    return Decision(route=route, fields=all_fields, main_field=main_field if all_fields else None,
                    crisis_kinds=crisis_kinds if is_crisis else [], crisis_phrases=crisis_phrases,
                    urgency=urgency, urgency_phrases=urgency_phrases, reason=reason, intent=intent)
