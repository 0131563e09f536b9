"""Routing evaluation: ``make eval DATA=file.jsonl OUT=file.json`` (Rasa side, Python 3.10).

Loads the trained model in-process, parses each line and runs the same routing code the bot
uses (bot.routing.decide). Prints a confusion matrix and parse latency; writes OUT as
{"n", "accuracy", "per_route", "crisis_recall", "false_alarm_rate", "sogo_recall",
 "latency_ms", "predictions": [{"text", "expected", "predicted", "fields"}]}.
Lines without a "route" key are predicted but not scored.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from bot import PROJECT_ROOT
from bot.fields import ROUTES
from bot.routing import decide

MODEL = PROJECT_ROOT / "models" / "soudan.tar.gz"


def load_items(path: Path) -> List[dict]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        if not isinstance(item.get("text"), str):
            raise ValueError(f"{path}:{number}: no text")
        if "route" in item and item["route"] not in ROUTES:
            raise ValueError(f"{path}:{number}: unknown route {item['route']!r}")
        items.append(item)
    return items


def score(items: List[dict], predictions: List[dict]) -> dict:
    """Accuracy, per-route precision/recall, crisis recall and false alarms (labelled items only)."""
    pairs = [(p["expected"], p["predicted"]) for p in predictions if p["expected"] is not None]
    n = len(pairs)
    labels = list(ROUTES) + sorted({pr for _, pr in pairs} - set(ROUTES))
    per_route: Dict[str, dict] = {}
    for route in ROUTES:
        tp = sum(1 for e, p in pairs if e == route and p == route)
        predicted = sum(1 for _, p in pairs if p == route)
        support = sum(1 for e, _ in pairs if e == route)
        per_route[route] = {"precision": round(tp / predicted, 4) if predicted else 0.0,
                            "recall": round(tp / support, 4) if support else 0.0, "support": support}
    crisis = [(e, p) for e, p in pairs if e == "emergency"]
    non_crisis = [(e, p) for e, p in pairs if e != "emergency"]
    confusion = {e: {p: sum(1 for a, b in pairs if a == e and b == p) for p in labels} for e in ROUTES}
    return {
        "n": n,
        "accuracy": round(sum(1 for e, p in pairs if e == p) / n, 4) if n else 0.0,
        "per_route": per_route,
        "crisis_recall": round(sum(1 for _, p in crisis if p == "emergency") / len(crisis), 4) if crisis else None,
        "false_alarm_rate": round(sum(1 for _, p in non_crisis if p == "emergency") / len(non_crisis), 4)
        if non_crisis else None,
        "sogo_recall": per_route["sogo"]["recall"],
        "confusion": confusion,
        "labels": labels,
    }


def print_confusion(result: dict) -> None:
    labels = result["labels"]
    short = {l: l[:8] for l in labels}
    print("expected \\ predicted".ljust(22) + "".join(short[l].rjust(10) for l in labels))
    for expected, row in result["confusion"].items():
        print(expected.ljust(22) + "".join(str(row[l]).rjust(10) for l in labels))


async def predict_all(items: List[dict], model: Path) -> tuple:
    from rasa.core.agent import Agent
    agent = Agent.load(str(model))
    await agent.parse_message("ウォームアップ")
    predictions, latencies = [], []
    for item in items:
        started = time.perf_counter()
        parse = await agent.parse_message(item["text"])
        latencies.append((time.perf_counter() - started) * 1000)
        decision = decide(parse)
        predictions.append({"text": item["text"], "expected": item.get("route"), "predicted": decision.route,
                            "fields": decision.fields, "intent": parse["intent"]["name"],
                            "confidence": round(float(parse["intent"].get("confidence") or 0), 4)})
    return predictions, latencies


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(PROJECT_ROOT / "tests" / "data" / "routing_eval.jsonl"))
    parser.add_argument("--out", default=str(PROJECT_ROOT / "reports" / "eval.json"))
    parser.add_argument("--model", default=str(MODEL))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    items = load_items(Path(args.data))
    predictions, latencies = asyncio.run(predict_all(items, Path(args.model)))
    result = score(items, predictions)
    ordered = sorted(latencies)
    result["latency_ms"] = {"median": round(statistics.median(ordered), 1),
                            "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1), "n": len(ordered)}
    result["predictions"] = [{k: p[k] for k in ("text", "expected", "predicted", "fields", "intent", "confidence")}
                             for p in predictions]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({k: v for k, v in result.items() if k != "labels"}, ensure_ascii=False, indent=1),
                   encoding="utf-8")
    print_confusion(result)
    print(f"\nn={result['n']}  accuracy={result['accuracy']}  crisis_recall={result['crisis_recall']}  "
          f"false_alarm_rate={result['false_alarm_rate']}  sogo_recall={result['sogo_recall']}")
    for route, s in result["per_route"].items():
        print(f"  {route:13s} precision={s['precision']:.3f} recall={s['recall']:.3f} support={s['support']}")
    print(f"parse latency in-process: median {result['latency_ms']['median']} ms, p95 {result['latency_ms']['p95']} ms")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
