"""Small calibrated classifiers beside DIET (Rasa side; scikit-learn, which Rasa already ships).

- danger: is this text danger (binary), and which kinds (one-vs-rest over the kinds);
- fields: which fields a worry touches (one-vs-rest over the project's fields).

Features are what residents' spelling does not change much: character n-grams of the folded text
(katakana as hiragana) and of its reading (kanji and kana spellings meet there), Sudachi
normalised word n-grams, and GiNZA's mean word vector (similar words, e.g. 借金 / ローン).
Logistic regression gives probabilities that thresholds can be set on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.core.textnorm import fold_kana
from bot.nlu.fast_features import for_prediction


@dataclass
class Sample:
    """One text as the models see it."""
    folded: str
    reading: str
    norms: str  # space-separated Sudachi normalised forms
    vector: Optional[np.ndarray] = None


def sample_from_doc(text: str, doc) -> Sample:
    """A Sample from the text and its GiNZA ``Doc`` (duck-typed)."""
    if doc is None:
        return Sample(fold_kana(text), fold_kana(text), fold_kana(text))
    readings, norms = [], []
    for t in doc:
        if t.is_space:
            continue
        reading = (t.morph.get("Reading") or [""])[0]
        readings.append(fold_kana(reading) if reading and reading != "*" else fold_kana(t.text))
        norms.append(t.norm_)
    vector = doc.vector if getattr(doc, "has_vector", False) else None
    return Sample(fold_kana(text), "".join(readings), " ".join(norms), vector)


class Features:
    def __init__(self, vector_weight: float = 1.0) -> None:
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True,
                                     max_features=60000)
        self.reading = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), min_df=2, sublinear_tf=True,
                                       max_features=60000)
        self.words = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2), min_df=2,
                                     sublinear_tf=True, max_features=40000)
        self.vector_weight = vector_weight
        self.dims = 0

    def fit(self, samples: Sequence[Sample]) -> "Features":
        self.chars.fit([s.folded for s in samples])
        self.reading.fit([s.reading for s in samples])
        self.words.fit([s.norms for s in samples])
        self.dims = next((len(s.vector) for s in samples if s.vector is not None), 0)
        return self

    def transform(self, samples: Sequence[Sample]):
        parts = [self.chars.transform([s.folded for s in samples]),
                 self.reading.transform([s.reading for s in samples]),
                 self.words.transform([s.norms for s in samples])]
        if self.dims:
            vectors = np.zeros((len(samples), self.dims), dtype=np.float32)
            for i, s in enumerate(samples):
                if s.vector is not None and len(s.vector) == self.dims:
                    norm = float(np.linalg.norm(s.vector)) or 1.0
                    vectors[i] = s.vector / norm * self.vector_weight
            parts.append(sparse.csr_matrix(vectors))
        return sparse.hstack(parts).tocsr()


def _logistic(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=2000, class_weight="balanced", solver="liblinear", random_state=0)


class MultiLabel:
    """One binary logistic regression per label over shared features; their weights are stacked
    into one matrix after training, so a prediction is one sparse product."""

    def __init__(self, labels: Sequence[str], c: float = 4.0) -> None:
        self.labels = list(labels)
        self.c = c
        self.trained: List[str] = []
        self.weights = None
        self.bias = None

    def fit(self, X, targets: Sequence[Sequence[str]]) -> "MultiLabel":
        columns, biases = [], []
        for label in self.labels:
            y = np.array([1 if label in t else 0 for t in targets])
            if 0 < y.sum() < len(y):
                model = _logistic(self.c).fit(X, y)
                self.trained.append(label)
                columns.append(model.coef_[0])
                biases.append(model.intercept_[0])
        if columns:
            self.weights = sparse.csr_matrix(np.array(columns).T)
            self.bias = np.array(biases)
        return self

    def scores(self, X) -> np.ndarray:
        """Probabilities, one column per trained label."""
        if self.weights is None:
            return np.zeros((X.shape[0], 0))
        return 1.0 / (1.0 + np.exp(-(np.asarray((X @ self.weights).todense()) + self.bias)))

    def predict(self, X) -> List[Dict[str, float]]:
        return [{label: round(float(p), 4) for label, p in zip(self.trained, row)} for row in self.scores(X)]


class Intents:
    """Intents by one-vs-rest logistic regression (an alternative to DIET): each intent's
    probability against the rest, normalised to sum to one, as scikit-learn's ovr does."""

    def __init__(self, c: float = 8.0) -> None:
        self.c = c
        self.model = MultiLabel([], c)

    def fit(self, X, intents: Sequence[str]) -> "Intents":
        self.model = MultiLabel(sorted(set(intents)), self.c).fit(X, [[i] for i in intents])
        return self

    def predict(self, X) -> List[List[tuple]]:
        scores = self.model.scores(X)
        scores = scores / np.maximum(scores.sum(axis=1, keepdims=True), 1e-12)
        return [sorted(zip(self.model.trained, (round(float(p), 4) for p in row)), key=lambda kv: -kv[1])
                for row in scores]


class TextModels:
    """The danger and field classifiers (and, when asked, an intent classifier), trained together
    on the project's NLU examples."""

    def __init__(self, kinds: Sequence[str], fields: Sequence[str], with_intents: bool = False) -> None:
        self.features = Features()
        self.danger = MultiLabel(["danger"], c=4.0)
        self.kinds = MultiLabel(kinds, c=4.0)
        self.fields = MultiLabel(fields, c=4.0)
        self.intents: Optional[Intents] = Intents() if with_intents else None

    def fit(self, samples: Sequence[Sample], danger: Sequence[bool], kinds: Sequence[Sequence[str]],
            fields: Sequence[Optional[Sequence[str]]], intents: Sequence[str] = ()) -> "TextModels":
        X = self.features.fit(samples).transform(samples)
        if self.intents is not None:
            self.intents.fit(X, intents)
        self.danger.fit(X, [["danger"] if d else [] for d in danger])
        danger_rows = [i for i, d in enumerate(danger) if d and kinds[i]]
        if danger_rows:
            self.kinds.fit(X[danger_rows], [kinds[i] for i in danger_rows])
        field_rows = [i for i, f in enumerate(fields) if f is not None]
        if field_rows:
            self.fields.fit(X[field_rows], [fields[i] for i in field_rows])
        return self

    def predict(self, samples: Sequence[Sample]) -> List[dict]:
        X = for_prediction(self.features).transform(samples)
        danger = self.danger.predict(X)
        kinds = self.kinds.predict(X)
        fields = self.fields.predict(X)
        intents = self.intents.predict(X) if self.intents is not None else [None] * len(samples)
        return [dict({"danger": d.get("danger", 0.0), "kinds": k, "fields": f}, **({"intents": i} if i else {}))
                for d, k, f, i in zip(danger, kinds, fields, intents)]
