"""Cross-validation of the intent classifier on the project's own NLU examples: ``make crossval``
(FOLDS=3 by default). Rasa side, Python 3.10.

Trains bot.nlu.text_models on k-1 folds (stratified by intent) and scores the held-out fold, the
same features the pipeline uses (GiNZA tokenizer and vectors, Sudachi norms, readings). It says
how well the examples teach their own style, not how residents write: that is ``make eval``.
``rasa test nlu --cross-validation`` ran every held-out example through the whole pipeline and took
over 40 minutes here; this takes a few.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold

from bot import PROJECT_ROOT
from bot.core.textnorm import normalize_text


def load_examples(nlu_dir: Path):
    """(text, intent) for every example under ``nlu_dir``, texts normalised as the pipeline does."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(nlu_dir))
    return [(normalize_text(e.get("text")), e.get("intent")) for e in data.intent_examples if e.get("text")]


def samples_for(texts):
    """bot.nlu.text_models Samples built from GiNZA's tokenizer and vectors (no parser), as in the pipeline."""
    from bot.nlu import ginza_pipeline
    from bot.nlu.text_models import sample_from_doc

    nlp = ginza_pipeline.load()
    return [sample_from_doc(text, doc) for text, doc in zip(texts, nlp.pipe(texts, batch_size=256))]


def cross_validate(texts, intents, folds: int, seed: int = 0) -> dict:
    from bot.nlu.text_models import Features, Intents

    samples = samples_for(texts)
    predicted = [""] * len(texts)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(len(texts)), intents), start=1):
        features = Features().fit([samples[i] for i in train])
        model = Intents().fit(features.transform([samples[i] for i in train]), [intents[i] for i in train])
        for i, ranking in zip(test, model.predict(features.transform([samples[i] for i in test]))):
            predicted[i] = ranking[0][0]
        print(f"fold {fold}/{folds}: accuracy "
              f"{np.mean([predicted[i] == intents[i] for i in test]):.3f} on {len(test)}", file=sys.stderr)
    report = classification_report(intents, predicted, output_dict=True, zero_division=0)
    confusions = Counter((a, b) for a, b in zip(intents, predicted) if a != b).most_common(8)
    return {"examples": len(texts), "folds": folds, "accuracy": round(report["accuracy"], 3),
            "macro_f1": round(report["macro avg"]["f1-score"], 3),
            "f1": {k: round(v["f1-score"], 3) for k, v in report.items() if isinstance(v, dict)
                   and k not in ("macro avg", "weighted avg")},
            "top_confusions": [f"{a} -> {b}: {n}" for (a, b), n in confusions]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--nlu", default=str(PROJECT_ROOT / "data" / "nlu"))
    parser.add_argument("--out", default=str(PROJECT_ROOT / "reports" / "crossval.json"))
    args = parser.parse_args(argv)
    texts, intents = zip(*load_examples(Path(args.nlu)))
    result = cross_validate(list(texts), list(intents), args.folds)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("examples", "folds", "accuracy", "macro_f1")}, ensure_ascii=False))
    print("F1: " + ", ".join(f"{k} {v}" for k, v in sorted(result["f1"].items())))
    print("top confusions: " + "; ".join(result["top_confusions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
