"""The text models' fast path (bot/nlu/fast_features.py) gives scikit-learn's scores bit for bit:
on a small model fitted here (every feature kind, word vectors, texts with no known feature) and
on the trained model with GiNZA's samples of the project's evaluation texts."""
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from bot.nlu import fast_features, rasa_speedups
from bot.tools.evaluate import MODEL
from bot.nlu.text_models import Sample, TextModels

DATA = Path(__file__).resolve().parent.parent / "data"

TRAINING = [
    ("借金が返せなくて困っています", "worry_money", False, [], ["money"]),
    ("ローンの返済が苦しい", "worry_money", False, [], ["money"]),
    ("お金が足りません", "worry_money", False, [], ["money"]),
    ("家賃を払えない", "worry_money", False, [], ["money"]),
    ("親の介護がつらい", "worry_care", False, [], ["care"]),
    ("母の介護に疲れました", "worry_care", False, [], ["care"]),
    ("認知症の父を介護しています", "worry_care", False, [], ["care"]),
    ("介護のことで相談したい", "worry_care", False, [], ["care"]),
    ("死にたいです", "crisis", True, ["suicide"], None),
    ("もう死にたい", "crisis", True, ["suicide"], None),
    ("消えてしまいたい", "crisis", True, ["suicide"], None),
    ("夫に殴られています", "crisis", True, ["violence"], None),
    ("夫に殴られた", "crisis", True, ["violence"], None),
    ("暴力をふるわれる", "crisis", True, ["violence"], None),
    ("こんにちは", "greet", False, [], []),
    ("こんにちは よろしく", "greet", False, [], []),
    ("はじめまして", "greet", False, [], []),
    ("よろしくお願いします", "greet", False, [], []),
]
TEXTS = [t[0] for t in TRAINING] + [
    "借金と介護の両方で困っています", "死にたいほど借金がつらい", "ローン ローン ローン",
    "ＡＢＣ", "", "xyz", "こんにちは、母の介護と家賃のことです", "殴られて死にたい",
]


def _sample(text: str, rng) -> Sample:
    words = " ".join(text[i:i + 2] for i in range(0, len(text), 2))
    return Sample(text, text[::-1], words, rng.standard_normal(8).astype(np.float32) if len(text) % 3 else None)


def _scores(models, samples, predict):
    """Every model's raw probabilities (not rounded) through ``predict``'s features."""
    features = fast_features.fast_features(models.features) if predict == "fast" else models.features
    X = features.transform(samples)
    return np.hstack([m.scores(X) for m in (models.intents.model, models.danger, models.kinds, models.fields)])


def _predict_with_scikit_learn(models, samples):
    """``TextModels.predict`` with the fast path switched off (then on again, as Rasa runs)."""
    fast_features.switch_off()
    try:
        return models.predict(samples)
    finally:
        fast_features.switch_on()


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    samples = [_sample(t[0], rng) for t in TRAINING]
    models = TextModels(kinds=["suicide", "violence"], fields=["money", "care"], with_intents=True)
    models.fit(samples, [t[2] for t in TRAINING], [t[3] for t in TRAINING], [t[4] for t in TRAINING],
               [t[1] for t in TRAINING])
    return models, [_sample(t, rng) for t in TEXTS]


def test_fast_scores_are_scikit_learns_bit_for_bit_on_a_fitted_model(small):
    models, samples = small
    assert fast_features.fast_features(models.features) is not None
    assert models.features.dims == 8 and any(s.vector is None for s in samples)
    for sample in samples:  # one text at a time, as the pipeline calls it
        expected, got = _scores(models, [sample], "sklearn"), _scores(models, [sample], "fast")
        assert expected.shape == got.shape == (1, 4 + 1 + 2 + 2)
        assert np.array_equal(expected, got), sample.folded
    assert np.array_equal(_scores(models, samples, "sklearn"), _scores(models, samples, "fast"))  # several at once


def test_fast_feature_rows_are_the_tfidf_rows(small):
    models, samples = small
    fast = fast_features.fast_features(models.features)
    expected, got = models.features.transform(samples), fast.transform(samples).tocsr()
    assert expected.shape == got.shape
    assert np.array_equal(expected.indptr, got.indptr)
    assert np.array_equal(expected.indices, got.indices) and np.array_equal(expected.data, got.data)
    empty = fast.transform([Sample("", "", "")])
    assert empty.tocsr().nnz == 0


def test_predict_goes_through_the_fast_path_and_answers_the_same(small, monkeypatch):
    models, samples = small
    rasa_speedups.install()
    fast = fast_features.fast_features(models.features)
    assert fast_features.for_prediction(models.features) is fast
    calls = []
    monkeypatch.setattr(fast, "transform", lambda s, _t=fast.transform: calls.append(len(s)) or _t(s))
    for sample in samples:
        assert models.predict([sample]) == _predict_with_scikit_learn(models, [sample])
    assert calls == [1] * len(samples)


def test_unsupported_features_keep_scikit_learns_path(small):
    models, samples = small
    fast_features.switch_on()
    odd = pickle.loads(pickle.dumps(models))
    odd.features.words.norm = "l1"  # a setting the fast path does not reproduce
    assert fast_features.fast_features(odd.features) is None
    assert fast_features.for_prediction(odd.features) is odd.features
    assert odd.predict(samples[:3]) == _predict_with_scikit_learn(odd, samples[:3])


def test_another_scikit_learn_is_refused_loudly():
    with pytest.raises(fast_features.UnsupportedVersion):
        fast_features.check_version("1.2.0")
    fast_features.check_version()  # the pinned version passes


def test_a_pickled_model_stays_as_it_was(small):
    models, samples = small
    fast_features.switch_on()
    models.predict(samples[:1])
    assert set(vars(pickle.loads(pickle.dumps(models)))) == {"features", "danger", "kinds", "fields", "intents"}


def _trained_text_models():
    with tarfile.open(MODEL) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("text_models.pkl"))
        return pickle.load(archive.extractfile(member))


def test_the_trained_model_scores_the_evaluation_texts_the_same():
    from bot.nlu import ginza_pipeline
    from bot.nlu.text_models import sample_from_doc
    from bot.core.textnorm import normalize_text
    rasa_speedups.install()
    nlp = ginza_pipeline.load()
    models = _trained_text_models()
    assert fast_features.fast_features(models.features) is not None
    texts = []
    for name in ("routing_eval.jsonl", "danger_list.jsonl", "calm_tricky.jsonl"):
        lines = [json.loads(line)["text"] for line in (DATA / name).read_text(encoding="utf-8").splitlines()
                 if line.strip()]
        texts += lines[::15]
    assert len(texts) >= 40
    for text in texts:
        text = normalize_text(text)
        sample = sample_from_doc(text, nlp(text))
        assert np.array_equal(_scores(models, [sample], "sklearn"), _scores(models, [sample], "fast")), text
        assert models.predict([sample]) == _predict_with_scikit_learn(models, [sample])
