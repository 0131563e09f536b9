"""Routing and danger evaluation: ``make eval`` (all the project's sets, and the real-text set
beside the project when it is there) or ``make eval DATA=file.jsonl OUT=file.json`` (one file).
Rasa side, Python 3.10.

Loads the trained model in-process, parses each line and runs the same routing code the bot uses
(``bot.core.routing.decide``). Item shapes (JSONL):
- routing: {"text", "route", "note"?}; ``note`` may carry ``[alt:ROUTE]`` and ``[context-poor]``;
- danger list: {"text", "kinds"} (expected route: emergency);
- calm list: {"text", "why", "route"?} (must not be emergency).
Scores (the city's evaluation rule): strict and lenient accuracy (lenient: an
``[alt:X]`` route counts, and ``clarify`` counts on a ``[context-poor]`` non-emergency item),
crisis recall (per kind when kinds are given), false alarms, sogo recall, top confusions.
OUT gets the scores and ``predictions`` in input order. ``--parses`` keeps the raw parses so that
thresholds can be tried without the model (``python -m bot.tools.evaluate --replay``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

from bot import PROJECT_ROOT
from bot.core.directory import get_directory
from bot.core.routing import DEFAULT, Thresholds, decide

MODEL = PROJECT_ROOT / "models" / "soudan.tar.gz"
OWN_SETS = ("routing_eval.jsonl", "routing_holdout.jsonl", "routing_residents.jsonl", "routing_round4.jsonl",
            "danger_list.jsonl", "calm_tricky.jsonl")
REAL_TEXTS = PROJECT_ROOT.parent / "shared" / "eval" / "realtexts-dev.jsonl"
_ALT = re.compile(r"\[alt:([a-z_]+)\]")


def load_items(path: Path) -> List[dict]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        if not isinstance(item.get("text"), str):
            raise ValueError(f"{path}:{number}: no text")
        if "route" not in item and "kinds" in item:
            item["route"] = "emergency"
        if item.get("route") == "none":
            item["route"] = None
        if item.get("route") is not None and item["route"] not in get_directory().routes:
            raise ValueError(f"{path}:{number}: unknown route {item['route']!r}")
        items.append(item)
    return items


def accepted_routes(item: dict) -> List[str]:
    """Routes the lenient score accepts for an item."""
    note = item.get("note") or ""
    routes = [item["route"]] + _ALT.findall(note)
    if "[context-poor]" in note and item["route"] != "emergency":
        routes.append("clarify")
    return routes


def _is_calm(item: dict) -> bool:
    """Neither emergency nor [alt:emergency]: an emergency answer here is a false alarm."""
    if item.get("route"):
        return "emergency" not in accepted_routes(item)
    return "why" in item


def score(items: List[dict], predictions: List[dict]) -> dict:
    """Scores over the labelled items (``route`` known) and the calm ones (``why``)."""
    pairs = [(item, p) for item, p in zip(items, predictions) if item.get("route")]
    n = len(pairs)
    crisis = [(i, p) for i, p in pairs if i["route"] == "emergency"]
    calm = [(i, p) for i, p in zip(items, predictions) if _is_calm(i)]
    sogo = [(i, p) for i, p in pairs if i["route"] == "sogo"]
    per_kind: Dict[str, List[int]] = {}
    for item, p in crisis:
        for kind in item.get("kinds") or []:
            hit = per_kind.setdefault(kind, [0, 0, 0])
            hit[0] += p["predicted"] == "emergency"
            hit[1] += kind in (p.get("crisis_kinds") or [])
            hit[2] += 1
    confusions = Counter((i["route"], p["predicted"]) for i, p in pairs if p["predicted"] not in accepted_routes(i))

    def share(hits, total):
        return round(hits / total, 4) if total else None
    return {
        "n": n,
        "strict_accuracy": share(sum(p["predicted"] == i["route"] for i, p in pairs), n),
        "lenient_accuracy": share(sum(p["predicted"] in accepted_routes(i) for i, p in pairs), n),
        "crisis_recall": share(sum(p["predicted"] == "emergency" for _, p in crisis), len(crisis)),
        "crisis_n": len(crisis),
        "false_alarm_rate": share(sum(p["predicted"] == "emergency" for _, p in calm), len(calm)),
        "calm_n": len(calm),
        "sogo_recall": share(sum(p["predicted"] == "sogo" for _, p in sogo), len(sogo)),
        # The same items scored like lenient accuracy ([alt:X] routes, clarify on [context-poor]).
        "sogo_recall_lenient": share(sum(p["predicted"] in accepted_routes(i) for i, p in sogo), len(sogo)),
        "sogo_n": len(sogo),
        "per_kind": {k: {"recall": share(v[0], v[2]), "kind_found": share(v[1], v[2]), "n": v[2]}
                     for k, v in sorted(per_kind.items())},
        "top_confusions": [{"expected": e, "predicted": p, "n": c} for (e, p), c in confusions.most_common(10)],
    }


def predict(parses: List[dict], limits: Thresholds = DEFAULT) -> List[dict]:
    out = []
    for parse in parses:
        decision = decide(parse, limits=limits)
        out.append({"text": parse.get("text"), "predicted": decision.route, "fields": decision.fields,
                    "crisis_kinds": decision.crisis_kinds, "danger_words": decision.crisis_phrases,
                    "danger_model": (parse.get("text_models") or {}).get("danger"),
                    "intent": (parse.get("intent") or {}).get("name"),
                    "confidence": round(float((parse.get("intent") or {}).get("confidence") or 0), 4)})
    return out


async def parse_all(texts: List[str], model: Path) -> tuple:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog
    configure_structlog(logging.ERROR)  # no per-message debug lines (they would print residents' texts)
    agent = Agent.load(str(model))
    await agent.parse_message("ウォームアップ")
    parses, latencies = [], []
    for text in texts:
        started = time.perf_counter()
        parses.append(await agent.parse_message(text))
        latencies.append((time.perf_counter() - started) * 1000)
    return parses, latencies


def report(name: str, result: dict) -> None:
    print(f"\n== {name}  n={result['n']}  strict={result['strict_accuracy']}  lenient={result['lenient_accuracy']}  "
          f"crisis_recall={result['crisis_recall']} (n={result['crisis_n']})  "
          f"false_alarms={result['false_alarm_rate']} (n={result['calm_n']})  "
          f"sogo_recall={result['sogo_recall']} (lenient {result['sogo_recall_lenient']}, n={result['sogo_n']})")
    if result["per_kind"]:
        print("   per kind (recall / kind named / n): " + ", ".join(
            f"{k} {v['recall']}/{v['kind_found']}/{v['n']}" for k, v in result["per_kind"].items()))
    if result["top_confusions"]:
        print("   top confusions: " + ", ".join(f"{c['expected']}->{c['predicted']} {c['n']}"
                                            for c in result["top_confusions"]))


def evaluate_files(paths: List[Path], model: Path, keep_parses: bool) -> Dict[str, dict]:
    sets = {p.name: load_items(p) for p in paths}
    texts = [item["text"] for items in sets.values() for item in items]
    parses, latencies = asyncio.run(parse_all(texts, model))
    results, start = {}, 0
    for name, items in sets.items():
        own = parses[start:start + len(items)]
        start += len(items)
        predictions = predict(own)
        result = score(items, predictions)
        result["predictions"] = [dict(p, expected=i.get("route")) for i, p in zip(items, predictions)]
        if keep_parses:
            result["parses"] = own
        results[name] = result
        report(name, result)
    ordered = sorted(latencies)
    print(f"\nparse latency in-process: median {statistics.median(ordered):.1f} ms, "
          f"p95 {ordered[max(0, int(len(ordered) * 0.95) - 1)]:.1f} ms (n={len(ordered)})")
    return results


def reread(parse: dict, nlp) -> dict:
    """A saved parse with the lexicons and the danger context read again (the trained model's
    scores kept): lexicon changes are measured in seconds, without training."""
    from bot.core.danger import detect, kind_entities, parse_from_doc
    from bot.core.directory import get_directory
    from bot.core.lexicon import crisis_lexicon, lexicon_entities, tokens_from_doc
    from bot.nlu.ginza_pipeline import parse as parse_text
    from bot.core.routing import guard_intent
    text = parse.get("text") or ""
    tokens = tokens_from_doc(nlp.make_doc(text))
    parsed = parse_from_doc(parse_text(nlp, text)) if crisis_lexicon().find(text, tokens) else None
    danger = detect(text, tokens, parsed, get_directory().kind_order)
    entities = lexicon_entities(text, tokens) + kind_entities(danger)
    ranking = parse.get("intent_ranking") or []
    raw = next((r for r in ranking if r.get("name") != "nlu_fallback"), parse.get("intent") or {})
    intent = guard_intent(raw, ranking, entities, text, danger.as_dict(), parse.get("text_models") or {})
    return dict(parse, entities=entities, intent=intent, danger=danger.as_dict())


def replay(path: Path, limits: Thresholds = DEFAULT, reread_lexicons: bool = True) -> Dict[str, dict]:
    """Scores from the parses saved by ``--parses`` (no model): with other thresholds, and with
    the lexicons and danger context as they are now."""
    saved = json.loads(path.read_text(encoding="utf-8"))
    saved = saved if "parses" not in saved else {"data": saved}
    nlp = None
    if reread_lexicons:
        from bot.core.lexicon import all_lexicons, tokens_from_doc
        from bot.nlu import ginza_pipeline
        nlp = ginza_pipeline.load()
        for lexicon in all_lexicons():
            lexicon.use_tokenizer(lambda t: tokens_from_doc(nlp.make_doc(t)))
    results = {}
    for name, result in saved.items():
        if "parses" not in result:
            continue
        parses = [reread(p, nlp) for p in result["parses"]] if nlp is not None else result["parses"]
        items = [{"text": p["text"], "route": p["expected"], "note": p.get("note", ""), "kinds": p.get("kinds"),
                  "why": p.get("why")} for p in result["predictions"]]
        predictions = predict(parses, limits)
        results[name] = dict(score(items, predictions), predictions=[dict(p, expected=i["route"], note=i["note"])
                                                                     for i, p in zip(items, predictions)])
        report(name, results[name])
    return results


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="a JSONL file (repeatable); default: every set")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "reports" / "eval.json"))
    parser.add_argument("--model", default=str(MODEL))
    parser.add_argument("--parses", action="store_true", help="keep the raw parses in OUT")
    parser.add_argument("--replay", help="score the parses saved in this file again (no model)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.replay:
        results = replay(Path(args.replay))
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        return 0
    if args.data:
        paths = [Path(d) for d in args.data]
    else:
        paths = [PROJECT_ROOT / "tests" / "data" / name for name in OWN_SETS]
        paths = [p for p in paths if p.exists()] + ([REAL_TEXTS] if REAL_TEXTS.exists() else [])
    results = evaluate_files(paths, Path(args.model), args.parses)
    for name, result in results.items():  # notes and kinds travel with the predictions for --replay
        items = load_items(next(p for p in paths if p.name == name))
        for item, prediction in zip(items, result["predictions"]):
            prediction.update({k: item[k] for k in ("note", "kinds", "why") if k in item})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = next(iter(results.values())) if len(results) == 1 else results  # one file: flat, as before
    out.write_text(json.dumps(written, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
