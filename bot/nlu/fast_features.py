"""Tf-idf features at prediction time without scikit-learn's per-call work (``TextModels.predict``).

Every message went through three scikit-learn TfidfVectorizers and four sparse products, whose
per-call work (input checks, the ``idf_`` property rebuilt from a diagonal matrix, sparse matrices
built and stacked) cost more than the features themselves: 8.3 -> 2.1 ms per message
(docs/performance.md). The fitted vocabularies and idf are read once per model; each text is
counted, weighted and normalised as scikit-learn 1.1.3 does (same operations in the same order),
and the weights are multiplied in scipy's order, so the scores are the same to the last bit.
Training still uses scikit-learn, and the stored model does not change.

``switch_on`` (called by bot.nlu.rasa_speedups.install, ``SOUDAN_SPEEDUPS`` names it
``textmodels``) refuses another scikit-learn version, loudly; switched off (the default, e.g. in
crossval), ``for_prediction`` gives scikit-learn's own features.
"""
from __future__ import annotations

import math
import weakref
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

SCIKIT_LEARN_VERSION = "1.1.3"  # whose operations this module reproduces (requirements/rasa-constraints.txt)


class UnsupportedVersion(RuntimeError):
    """The installed scikit-learn is not the version whose arithmetic is reproduced here."""


def check_version(installed: Optional[str] = None) -> None:
    import importlib.metadata
    installed = installed or importlib.metadata.version("scikit-learn")
    if installed != SCIKIT_LEARN_VERSION:
        raise UnsupportedVersion(
            f"bot/nlu/fast_features.py reproduces scikit-learn {SCIKIT_LEARN_VERSION} but found {installed}: check "
            "it against the new version (tests/actions/test_text_models_fast.py), then update SCIKIT_LEARN_VERSION "
            "(or leave textmodels out of SOUDAN_SPEEDUPS)")


_SWITCH = {"on": False}


def switch_on() -> None:
    check_version()
    _SWITCH["on"] = True


def switch_off() -> None:
    _SWITCH["on"] = False


class _Vocabulary:
    """One fitted TfidfVectorizer applied to one text: its analyzer, vocabulary and idf read once."""

    def __init__(self, vectorizer) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.idf = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.sublinear_tf = bool(vectorizer.sublinear_tf)
        self.width = len(self.vocabulary)

    @staticmethod
    def supports(vectorizer) -> bool:
        """The settings this class reproduces; any other vectorizer keeps scikit-learn's path."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        return (type(vectorizer) is TfidfVectorizer and hasattr(vectorizer, "vocabulary_")
                and vectorizer.input == "content" and vectorizer.analyzer in ("char", "char_wb", "word")
                and vectorizer.norm == "l2" and vectorizer.use_idf and not vectorizer.binary
                and vectorizer.dtype in (np.float64, float))

    def row(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """(columns, values) of the text's tf-idf row in the order ``transform`` leaves them:
        columns descending (scipy's product with the idf diagonal reverses the sorted counts)."""
        vocabulary, counts = self.vocabulary, {}
        for feature in self.analyze(text):
            column = vocabulary.get(feature)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.array(sorted(counts, reverse=True), dtype=np.intp)
        values = np.array([counts[c] for c in columns.tolist()], dtype=np.float64)
        if self.sublinear_tf:
            np.log(values, values)
            values += 1
        values = values * self.idf[columns]
        total = 0.0
        for value in values.tolist():  # scikit-learn's l2 norm adds the squares in stored order
            total += value * value
        if total != 0.0:
            values /= math.sqrt(total)
        return columns, values


class _Dense:
    """What ``(X @ weights).todense()`` needs from a product."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def todense(self) -> np.ndarray:
        return self.array


_FULL_ROWS: Dict[int, Tuple[Any, Optional[np.ndarray]]] = {}  # id -> (weak reference, view)


def _full_rows(weights) -> Optional[np.ndarray]:
    """A csr matrix of two labels or more that stores every entry in order (the intent weights) as
    the dense array it is, a view of its data without a copy; None for any other matrix. (With one
    label numpy would sum the column pairwise, not in scipy's order.)"""
    known = _FULL_ROWS.get(id(weights))
    if known is not None and known[0]() is weights:
        return known[1]
    rows, labels = weights.shape
    # nnz == rows * labels, equal row lengths and sorted indices: every row holds 0..labels-1
    full = (labels >= 2 and weights.nnz == rows * labels and weights.has_sorted_indices
            and np.array_equal(weights.indptr, np.arange(0, rows * labels + 1, labels)))
    view = weights.data.reshape(rows, labels) if full else None
    key = id(weights)
    _FULL_ROWS[key] = (weakref.ref(weights, lambda _ref: _FULL_ROWS.pop(key, None)), view)
    return view


class _Rows:
    """Feature rows of a few texts, each (columns, values) in the order ``Features.transform``
    stores them. ``rows @ weights`` is the sparse product with each sum taken in scipy's order (the
    row's entries in stored order), so the result is bit for bit the same."""

    def __init__(self, rows: List[Tuple[np.ndarray, np.ndarray]], width: int) -> None:
        self.rows = rows
        self.shape = (len(rows), width)

    def tocsr(self):
        from scipy import sparse
        indptr = np.cumsum([0] + [len(c) for c, _ in self.rows])
        columns = np.concatenate([c for c, _ in self.rows]) if self.rows else np.zeros(0, dtype=np.intp)
        values = np.concatenate([v for _, v in self.rows]) if self.rows else np.zeros(0)
        return sparse.csr_matrix((values, columns, indptr), shape=self.shape)

    def __matmul__(self, weights) -> _Dense:
        from scipy import sparse
        if not sparse.isspmatrix_csr(weights) or weights.shape[0] != self.shape[1]:
            return _Dense(np.asarray((self.tocsr() @ weights).todense()))
        labels = weights.shape[1]
        out = np.zeros((len(self.rows), labels), dtype=np.result_type(weights.dtype, np.float64))
        full = _full_rows(weights)
        if full is not None:  # numpy sums (n, labels >= 2) over the first axis row after row: scipy's order
            for i, (columns, values) in enumerate(self.rows):
                out[i] = (values[:, None] * full[columns]).sum(axis=0)
            return _Dense(out)
        indptr, indices, data = weights.indptr, weights.indices, weights.data
        for i, (columns, values) in enumerate(self.rows):
            starts = indptr[columns]
            lengths = indptr[columns + 1] - starts
            # positions in ``data`` of every weight of every column of the row, row after row
            positions = np.arange(int(lengths.sum())) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
            # bincount adds in input order: each label's sum runs over the row's entries in stored order
            out[i] = np.bincount(indices[positions], weights=np.repeat(values, lengths) * data[positions],
                                 minlength=labels)
        return _Dense(out)


class _FastFeatures:
    """Stands in for a fitted ``bot.nlu.text_models.Features`` at prediction time."""

    def __init__(self, features) -> None:
        self.blocks = [(_Vocabulary(features.chars), "folded"), (_Vocabulary(features.reading), "reading"),
                       (_Vocabulary(features.words), "norms")]
        self.dims = features.dims
        self.vector_weight = features.vector_weight
        self.width = sum(block.width for block, _ in self.blocks) + self.dims

    @staticmethod
    def supports(features) -> bool:
        return all(_Vocabulary.supports(getattr(features, name, None)) for name in ("chars", "reading", "words"))

    def _vector(self, sample) -> Tuple[np.ndarray, np.ndarray]:
        # as Features.transform: the mean word vector, unit length times vector_weight, in float32
        row = np.zeros(self.dims, dtype=np.float32)
        if sample.vector is not None and len(sample.vector) == self.dims:
            norm = float(np.linalg.norm(sample.vector)) or 1.0
            row[:] = sample.vector / norm * self.vector_weight
        columns = np.flatnonzero(row)
        return columns, row[columns].astype(np.float64)

    def transform(self, samples) -> _Rows:
        rows = []
        for sample in samples:
            parts, offset = [], 0
            for block, attribute in self.blocks:
                columns, values = block.row(getattr(sample, attribute))
                parts.append((columns + offset, values))
                offset += block.width
            if self.dims:
                columns, values = self._vector(sample)
                parts.append((columns + offset, values))
            rows.append((np.concatenate([c for c, _ in parts]), np.concatenate([v for _, v in parts])))
        return _Rows(rows, self.width)


_FAST_FEATURES: "weakref.WeakKeyDictionary[Any, Optional[_FastFeatures]]" = weakref.WeakKeyDictionary()


def fast_features(features) -> Optional[_FastFeatures]:
    """The fast stand-in for a fitted Features (made once per object), or None when unsupported."""
    try:
        return _FAST_FEATURES[features]
    except KeyError:
        made = _FastFeatures(features) if _FastFeatures.supports(features) else None
        _FAST_FEATURES[features] = made
        return made


def for_prediction(features):
    """What ``TextModels.predict`` transforms texts with: the fast stand-in when switched on and
    the features are supported, else ``features`` itself (scikit-learn)."""
    fast = fast_features(features) if _SWITCH["on"] else None
    return fast if fast is not None else features
