"""Measured speed-ups for the Rasa process (imported by bot.nlu.rasa_components, so they apply
wherever Rasa loads this project's pipeline: training, ``rasa run``, ``make eval``).

1. GiNZA: no longer a patch. The components the project does not use are left out of a copy of
   ja_ginza saved at set-up (bot/nlu/ginza_pipeline.py, the path in config.yml). The numbers below
   were measured with the patch that did the same at load time.
2. jsonschema: Rasa validates every action-server answer with ``jsonschema.validate``, which checks
   the (unchanging) schema against its meta-schema each time. The validator is built once per
   schema instead; errors are raised exactly as before (best match).

Measured by the benchmark (tests/bench, 2 cores): predictions on the 373 evaluation texts are
identical (intent, confidence to 4 decimals, entities); parse time 51 -> 26 ms; /api/chat median
for one resident 156 -> 90 ms; throughput at 20 concurrent residents 6.2 -> 14.1 answers/s.

Found by profiling a whole answer (tests/bench/profile.py, docs/performance.md):

3. Action answers: Rasa's response schema checks every event against 23 ``oneOf`` branches, one per
   event type. Each branch fixes ``event`` to a different constant, so an event is valid exactly
   when it is valid against the branch its ``event`` names: that branch alone is checked. Anything
   that is not plainly valid is checked again by the full schema, so errors are raised as before.
4. Events: Rasa finds an event's class by walking every Event subclass (``inspect.isabstract`` on
   each) for every event it reads, e.g. the whole conversation each time the tracker store loads it.
   The class found for each type name is remembered.
5. Graph runs: every message runs the NLU graph and every prediction the policy graph through dask,
   recomputing the subgraph (a recursive walk without memo) and dask's ordering each time. The plan
   (nodes in dependency order) is made once per set of targets and the nodes are called in it, with
   the same inputs and outputs as under dask. Only the two runs made per message; training still
   runs under dask (which frees each output as soon as nothing needs it).

6. Action calls: Rasa sends the whole conversation (about 40 KB of JSON in a form) with every call
   to the action server, encoded by the standard library (about 2 ms a call). ujson (a dependency of
   Rasa and Sanic, pinned in requirements/rasa-constraints.txt) writes the same JSON (compact, "/"
   escaped) in a third of the time; anything ujson refuses goes to the standard library as before.

Measured for 3-6 (A/B back to back, same stack, load average 3.2-3.9 from other work): Rasa CPU per
answer 58 -> 44 ms for one resident and 64 -> 50 ms at 20; the 1577 evaluation parses and all test
stories unchanged (docs/performance.md).

7. Text models (bot.nlu.text_models, our own code, not Rasa's): every message went through three
   scikit-learn TfidfVectorizers and four sparse products, whose per-call work (input checks, the
   ``idf_`` property rebuilt from a diagonal matrix, sparse matrices built and stacked) cost more
   than the features themselves. The fitted vocabularies and idf are read once per model; each text
   is counted, weighted and normalised as scikit-learn 1.1.3 does (same operations in the same
   order), and the weights are multiplied in scipy's order, so the scores are the same to the last
   bit. Training still uses scikit-learn (the stored model does not change). The file is not a
   training input (Makefile), so changing it does not make the model retrain.

``SOUDAN_SPEEDUPS`` (default ``all``) names the ones to install, comma-separated, or ``none``:
for A/B measurements only (jsonschema, events, graph, json, textmodels).
"""
from __future__ import annotations

import json
import logging
import math
import os
import weakref
from typing import Any, Dict, List, Optional, Text, Tuple

import jsonschema
import numpy as np
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER

logger = logging.getLogger(__name__)
NAMES = ("jsonschema", "events", "graph", "json", "textmodels")
_LOGGED: List[Tuple[str, ...]] = []
# The patches replace internals of these exact versions (requirements/rasa-constraints.txt). After an
# upgrade, check each patch against the new code, run tests/actions/test_speedups.py, then update.
PATCHED_VERSIONS = {"rasa": "3.6.21", "jsonschema": "4.17.3", "scikit-learn": "1.1.3"}


class UnpatchedVersion(RuntimeError):
    """Rasa, jsonschema or scikit-learn is not the version the speed-ups were written for."""


def check_versions(installed=None) -> None:
    """Fail loudly, before anything is patched, when a patched package has another version."""
    import importlib.metadata

    installed = installed or {name: importlib.metadata.version(name) for name in PATCHED_VERSIONS}
    wrong = {name: installed.get(name) for name, version in PATCHED_VERSIONS.items() if installed.get(name) != version}
    if wrong:
        raise UnpatchedVersion(
            "bot/nlu/rasa_speedups.py patches " + ", ".join(f"{n} {PATCHED_VERSIONS[n]}" for n in wrong) + " but found "
            + ", ".join(f"{n} {v}" for n, v in wrong.items()) + ": check each patch against the new version, "
            "then update PATCHED_VERSIONS (or set SOUDAN_SPEEDUPS=none to run without them)")

_VALIDATORS: Dict[str, Any] = {}
_validate = jsonschema.validate


def _validator(schema: dict, key: Optional[str] = None):
    key = key or json.dumps(schema, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = _VALIDATORS[key] = cls(schema)
    return validator


def _validate_with_cached_validator(instance: Any, schema: dict, *args: Any, **kwargs: Any) -> None:
    if args or kwargs:  # a caller choosing its own validator class or format checker
        return _validate(instance, schema, *args, **kwargs)
    if schema is _ACTION_SPEC.get("schema") and _action_answer_is_valid(instance):
        return None
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(instance))
    if error is not None:
        raise error


# -- 3. the action server's answers ----------------------------------------------------------------

_ACTION_SPEC: Dict[str, Any] = {}


def _split_action_spec(schema: dict) -> Optional[Tuple[Any, Any, Dict[str, Any]]]:
    """(validator of the answer without its events, of an event without ``oneOf``, validator per
    event type), or None when the schema is not shaped as expected (then nothing is split)."""
    events = schema.get("properties", {}).get("events", {})
    item = events.get("items", {}) if events.get("type") == "array" and set(events) == {"type", "items"} else {}
    branches = item.get("oneOf") or []
    consts = [b.get("properties", {}).get("event", {}).get("const") for b in branches]
    if not branches or not all(isinstance(c, str) for c in consts) or len(set(consts)) != len(consts):
        return None
    if item.get("required") != ["event"] or item.get("properties", {}).get("event") != {"type": "string"}:
        return None
    answer = dict(schema, properties={k: v for k, v in schema["properties"].items() if k != "events"})
    base = {k: v for k, v in item.items() if k != "oneOf"}
    per_type = {c: _validator(dict(base, allOf=[b])) for c, b in zip(consts, branches)}
    return _validator(answer), _validator(base), per_type


def _action_answer_is_valid(instance: Any) -> bool:
    """True only when the full schema would accept ``instance`` (see 3. above); False means "not
    sure", and the full schema decides."""
    answer, _base, per_type = _ACTION_SPEC["split"]
    if not isinstance(instance, dict) or not answer.is_valid(instance):
        return False
    events = instance.get("events", [])
    if not isinstance(events, list):
        return False
    for event in events:
        name = event.get("event") if isinstance(event, dict) else None
        validator = per_type.get(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def _install_action_answer_check() -> None:
    from rasa.core.actions.action import RemoteAction
    if _ACTION_SPEC:
        return
    schema = RemoteAction.action_response_format_spec()
    split = _split_action_spec(schema)
    if split is None:
        return
    _ACTION_SPEC.update(schema=schema, split=split)
    # The same (unchanging) dict each time, so the check above knows it by identity.
    RemoteAction.action_response_format_spec = staticmethod(lambda: _ACTION_SPEC["schema"])


# -- 4. event classes by type name -------------------------------------------------------------------

_EVENT_CLASSES: Dict[str, Any] = {}


def _install_event_class_cache() -> None:
    from rasa.shared.core.events import Event
    resolve = Event.resolve_by_type
    if getattr(resolve, "soudan_cached", False):
        return

    def resolve_by_type(type_name: Text, default=None):
        cls = _EVENT_CLASSES.get(type_name)
        if cls is None:
            # Unknown names (and "topic") take the original path: its default and its error.
            cls = resolve(type_name, default)
            if cls is not None and cls is not default:
                _EVENT_CLASSES[type_name] = cls
        return cls

    resolve_by_type.soudan_cached = True
    Event.resolve_by_type = staticmethod(resolve_by_type)


# -- 5. graph runs without dask --------------------------------------------------------------------

def _plan(schema) -> List[Tuple[Text, List[Text]]]:
    """The schema's nodes in dependency order (a node after every node it needs), each with the
    names it needs, in its ``needs`` order."""
    names = list(schema.nodes)
    order: List[Text] = []
    state: Dict[Text, int] = {}

    def visit(name: Text) -> None:
        if state.get(name) == 2 or name not in schema.nodes:
            return
        if state.get(name) == 1:
            from rasa.engine.exceptions import GraphRunError
            raise GraphRunError(f"cycle in the graph at '{name}'")
        state[name] = 1
        for dependency in schema.nodes[name].needs.values():
            visit(dependency)
        state[name] = 2
        order.append(name)

    for name in names:
        visit(name)
    return [(name, list(schema.nodes[name].needs.values())) for name in order]


# The inputs of the two graph runs made for every message (rasa.core.processor): the NLU parse and
# the next-action prediction. Anything else (training, with the importer as input) goes to dask.
ANSWER_GRAPH_INPUTS = frozenset({PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER})


def _run_in_plan(self, inputs: Optional[Dict[Text, Any]] = None,
                 targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    from rasa.engine.exceptions import GraphRunError
    if not inputs or not set(inputs) <= ANSWER_GRAPH_INPUTS:
        return _DASK_RUN["run"](self, inputs, targets)
    run_targets = targets if targets else self._graph_schema.target_names
    plans = self.__dict__.setdefault("_soudan_plans", {})
    key = tuple(run_targets)
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _plan(self._graph_schema.minimal_graph_schema(run_targets))
    values: Dict[Text, Any] = {}
    if inputs:
        node_names = {name for name, _ in plan}
        for input_name, input_value in inputs.items():
            if isinstance(input_value, str) and (input_value in node_names or input_value in inputs):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure that none of the input "
                    f"names passed to the `run` method are the same as node names in the graph schema.")
            values[input_name] = (input_name, input_value)
    try:
        for name, needs in plan:
            if name in values:  # an input given for a node replaces the node, as under dask
                continue
            values[name] = self._instantiated_nodes[name](*[values.get(n, n) for n in needs])
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(values[t] if t in values else t for t in run_targets)


_DASK_RUN: Dict[str, Any] = {}


def _install_graph_plan() -> None:
    from rasa.engine.runner.dask import DaskGraphRunner
    if DaskGraphRunner.run is not _run_in_plan:
        _DASK_RUN["run"] = DaskGraphRunner.run  # for training runs and the tests' comparison
        DaskGraphRunner.run = _run_in_plan


# -- 6. encoding the action server's request ---------------------------------------------------------

def json_dumps(obj: Any) -> str:
    try:
        import ujson
        return ujson.dumps(obj)
    except (ImportError, TypeError, OverflowError, ValueError):
        return json.dumps(obj)


def _install_fast_request_json() -> None:
    import aiohttp
    from rasa.utils.endpoints import EndpointConfig
    if getattr(EndpointConfig.session, "soudan_json", False):
        return
    make_session = EndpointConfig.session

    def session(self) -> aiohttp.ClientSession:
        made = make_session(self)
        made._json_serialize = json_dumps  # what ClientSession(json_serialize=...) sets
        return made

    session.soudan_json = True
    EndpointConfig.session = session


# -- 7. the text models without scikit-learn's per-call work -----------------------------------------

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


class _WithFastFeatures:
    """The text models seen with fast features: ``TextModels.predict`` runs unchanged on it."""

    def __init__(self, models, features: _FastFeatures) -> None:
        self._models = models
        self.features = features

    def __getattr__(self, name: str) -> Any:
        return getattr(self._models, name)


_FAST_FEATURES: "weakref.WeakKeyDictionary[Any, Optional[_FastFeatures]]" = weakref.WeakKeyDictionary()
_TEXT_MODELS: Dict[str, Any] = {}


def fast_features(features) -> Optional[_FastFeatures]:
    """The fast stand-in for a fitted Features (made once per object), or None when unsupported."""
    try:
        return _FAST_FEATURES[features]
    except KeyError:
        made = _FastFeatures(features) if _FastFeatures.supports(features) else None
        _FAST_FEATURES[features] = made
        return made


def predict_text_models(models, samples):
    """``TextModels.predict`` with the fast features (scikit-learn's path when not supported)."""
    fast = fast_features(models.features)
    if fast is None:
        return _TEXT_MODELS["predict"](models, samples)
    return _TEXT_MODELS["predict"](_WithFastFeatures(models, fast), samples)


def _install_text_models() -> None:
    from bot.nlu.text_models import TextModels
    if TextModels.predict is not predict_text_models:
        _TEXT_MODELS["predict"] = TextModels.predict  # scikit-learn's path, for the tests' comparison
        TextModels.predict = predict_text_models


def selected(environ=os.environ) -> Tuple[str, ...]:
    value = environ.get("SOUDAN_SPEEDUPS", "all").strip().lower()
    if value in ("", "all"):
        return NAMES
    return tuple(n for n in NAMES if n in {v.strip() for v in value.split(",")})


def install() -> None:
    """Idempotent. Raises UnpatchedVersion when a patched package is not the patched version."""
    names = selected()
    if names:
        check_versions()
    if "jsonschema" in names:
        # rasa.core.actions.action imports ``validate`` from jsonschema at call time.
        jsonschema.validate = _validate_with_cached_validator
        _install_action_answer_check()
    if "events" in names:
        _install_event_class_cache()
    if "graph" in names:
        _install_graph_plan()
    if "json" in names:
        _install_fast_request_json()
    if "textmodels" in names:
        _install_text_models()
    if names not in _LOGGED:  # said once per process, so the patching is never silent
        _LOGGED.append(names)
        logger.info("bot/nlu/rasa_speedups.py installed: %s (SOUDAN_SPEEDUPS)", ", ".join(names) or "none")
