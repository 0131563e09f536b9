"""Every crisis item of the evaluation set opens the crisis answer (correctness, not a benchmark):
the trained model loaded in-process, the same routing code the bot uses."""
import asyncio
from pathlib import Path

from bot.evaluate import MODEL, load_items, predict_all

EVAL = Path(__file__).resolve().parent.parent / "data" / "routing_eval.jsonl"


def test_crisis_recall_is_one():
    crisis_items = [item for item in load_items(EVAL) if item.get("route") == "emergency"]
    assert len(crisis_items) >= 40
    predictions, _ = asyncio.run(predict_all(crisis_items, MODEL))
    missed = [p["text"] for p in predictions if p["predicted"] != "emergency"]
    assert missed == []
