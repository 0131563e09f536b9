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

7. Text models: not a patch. ``textmodels`` switches on the prediction-time features of
   bot/nlu/fast_features.py (our own code, used by ``TextModels.predict``).

``SOUDAN_SPEEDUPS`` (default ``all``) names the ones to install, comma-separated, or ``none``:
for A/B measurements only (jsonschema, events, graph, json, textmodels).
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional, Text, Tuple

import jsonschema
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER

from bot.nlu import fast_features

logger = logging.getLogger(__name__)
NAMES = ("jsonschema", "events", "graph", "json", "textmodels")
_LOGGED: List[Tuple[str, ...]] = []
# The patches replace internals of these exact versions (requirements/rasa-constraints.txt). After an
# upgrade, check each patch against the new code, run tests/actions/test_speedups.py, then update.
PATCHED_VERSIONS = {"rasa": "3.6.21", "jsonschema": "4.17.3"}


class UnpatchedVersion(RuntimeError):
    """Rasa or jsonschema is not the version the speed-ups were written for."""


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
    if "textmodels" in names:
        fast_features.check_version()  # before anything is patched, like the others
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
        fast_features.switch_on()
    if names not in _LOGGED:  # said once per process, so the patching is never silent
        _LOGGED.append(names)
        logger.info("bot/nlu/rasa_speedups.py installed: %s (SOUDAN_SPEEDUPS)", ", ".join(names) or "none")
