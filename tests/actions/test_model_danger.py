"""Danger on the trained model, in-process, through the same routing code the bot uses: every
item of the project's danger list opens the crisis answer with its kind, the tricky calm list
stays calm, and the context rules read GiNZA's parse (negation, the past, mourning, who is at
risk). Correctness, not a benchmark: ``make eval`` prints the same figures."""
import asyncio
from pathlib import Path

import pytest

from bot.tools.evaluate import MODEL, load_items, parse_all, predict, score

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def parsed():
    import logging
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog
    configure_structlog(logging.ERROR)  # no per-message debug lines
    agent = Agent.load(str(MODEL))

    def run(texts):
        async def go():
            return [await agent.parse_message(t) for t in texts]
        return asyncio.run(go())
    return run


def _scored(name, parsed):
    items = load_items(DATA / name)
    predictions = predict(parsed([i["text"] for i in items]))
    return items, predictions, score(items, predictions)


def test_every_danger_item_opens_the_crisis_answer(parsed):
    items, predictions, result = _scored("danger_list.jsonl", parsed)
    assert len(items) >= 200
    missed = [i["text"] for i, p in zip(items, predictions) if p["predicted"] != "emergency"]
    assert missed == []


def test_tricky_calm_texts_rarely_open_it(parsed):
    items, predictions, result = _scored("calm_tricky.jsonl", parsed)
    assert len(items) >= 150
    assert result["false_alarm_rate"] <= 0.03, [i["text"] for i, p in zip(items, predictions)
                                                 if p["predicted"] == "emergency"]


@pytest.mark.parametrize("text,kinds", [
    ("じいちゃんがへんじしない", ["unresponsive"]),
    ("泣き止まなくて投げつけたくなる", ["child_abuse"]),
    ("友達が親に殴られてるって言ってた", ["child_abuse"]),
    ("母が兄に殴られた", ["elder_abuse"]),
    ("母を殺して自分も死ぬ", ["threat", "suicide"]),
    ("薬いっぱい飲んじゃった", ["medical", "suicide"]),
    ("おっと が たたく", ["violence"]),
    ("子どもが夜中に熱40度でぐったりしてる", ["sick_child_night"]),
])
def test_kinds_follow_who_is_at_risk(parsed, text, kinds):
    prediction = predict(parsed([text]))[0]
    assert prediction["predicted"] == "emergency"
    assert set(kinds) <= set(prediction["crisis_kinds"])
    if "elder_abuse" in kinds or "violence" in kinds:
        assert "child_abuse" not in prediction["crisis_kinds"]


@pytest.mark.parametrize("text,reason", [
    ("死にたいとは思わない", "negated"),
    ("殴られてはいないです", "negated"),
    ("昔は死にたいと思ったけど今は元気", "past"),
])
def test_context_from_the_parse_cancels_a_hit(parsed, text, reason):
    parse = parsed([text])[0]
    assert parse["danger"]["kinds"] == []
    assert reason in [c["reason"] for c in parse["danger"]["cancelled"]]


def test_a_double_negation_does_not_cancel(parsed):
    parse = parsed(["死にたくないわけじゃない"])[0]
    assert parse["danger"]["kinds"] == ["suicide"]
