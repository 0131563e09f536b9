"""The Rasa-process speed-ups keep behaviour: the same validation errors, events and scores."""
import jsonschema
import pytest

from bot.nlu import rasa_speedups

SCHEMA = {"type": "object", "properties": {"events": {"type": "array"}}, "required": ["events"]}


def test_cached_validator_accepts_and_rejects_like_jsonschema():
    rasa_speedups.install()
    jsonschema.validate({"events": []}, SCHEMA)
    jsonschema.validate({"events": []}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"events": "no"}, SCHEMA)
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.validate({}, {"type": 12})


# -- found by profiling a whole answer (docs/performance.md) ---------------------------------------

def _full_schema_error(instance, schema):
    """The error jsonschema itself gives (the validator built from scratch, no speed-up)."""
    cls = jsonschema.validators.validator_for(schema)
    return jsonschema.exceptions.best_match(cls(schema).iter_errors(instance))


ACTION_ANSWERS_OK = [
    {"events": [], "responses": []},
    {},
    {"events": [{"event": "slot", "name": "field", "value": ["kaigo"], "timestamp": None},
                {"event": "active_loop", "name": "handoff_form"},
                {"event": "followup", "name": "action_listen"}],
     "responses": [{"text": "はい", "buttons": []}, {"custom": {"internal": {"outcome": "x"}}}]},
]
ACTION_ANSWERS_BAD = [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "field"}]},
    {"events": [{"event": 3}]},
    {"events": ["slot"]},
    {"events": {"event": "slot"}},
    {"events": [{"event": "slot", "name": "x", "timestamp": "yesterday"}]},
    {"events": [{"event": "user", "text": 12}]},
    {"responses": "hello"},
    {"responses": ["hello"]},
    [],
]


def test_action_answers_are_accepted_and_refused_exactly_as_by_the_full_schema():
    rasa_speedups.install()
    from rasa.core.actions.action import RemoteAction
    schema = RemoteAction.action_response_format_spec()
    assert schema is RemoteAction.action_response_format_spec()  # one dict, known by identity
    for answer in ACTION_ANSWERS_OK:
        assert _full_schema_error(answer, schema) is None
        jsonschema.validate(answer, schema)
    for answer in ACTION_ANSWERS_BAD:
        expected = _full_schema_error(answer, schema)
        assert expected is not None, answer
        assert not rasa_speedups._action_answer_is_valid(answer)
        with pytest.raises(jsonschema.ValidationError) as raised:
            jsonschema.validate(answer, schema)
        assert raised.value.message == expected.message and list(raised.value.path) == list(expected.path)


def test_remote_action_still_refuses_a_malformed_answer():
    rasa_speedups.install()
    from rasa.core.actions.action import RemoteAction
    action = RemoteAction("action_route_worry", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "field", "value": None}], "responses": []})
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "no_such_event"}]})


def test_event_classes_by_type_name_are_the_ones_rasa_finds():
    rasa_speedups.install()
    import rasa.shared.utils.common
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert {"slot", "action", "user", "bot", "active_loop", "form"} <= names
    for name in sorted(names):
        walked = next(c for c in rasa.shared.utils.common.all_subclasses(Event) if c.type_name == name)
        assert Event.resolve_by_type(name) is walked
        assert Event.resolve_by_type(name) is walked  # second time from the cache
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nothing_like_it", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("nothing_like_it")
    events = [{"event": "slot", "name": "field", "value": "kaigo"}, {"event": "action", "name": "action_listen"}]
    parsed = [Event.from_parameters(e) for e in events]
    assert parsed == [SlotSet("field", "kaigo"), ActionExecuted("action_listen")]


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent
    from bot import PROJECT_ROOT
    rasa_speedups.install()
    return Agent.load(str(PROJECT_ROOT / "models" / "soudan.tar.gz"))


def test_graph_runs_in_plan_give_what_dask_gives(agent):
    import asyncio
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    assert DaskGraphRunner.run is rasa_speedups._run_in_plan
    texts = ["母の物忘れがひどくて、介護のことを相談したいです", "死にたい", "はい", "/inform{\"consulter\":\"self\"}"]

    def both(fn):
        planned = fn()
        DaskGraphRunner.run = rasa_speedups._DASK_RUN["run"]
        try:
            by_dask = fn()
        finally:
            DaskGraphRunner.run = rasa_speedups._run_in_plan
        return planned, by_dask

    for text in texts:
        planned, by_dask = both(lambda: asyncio.run(agent.parse_message(text)))
        assert planned == by_dask and planned["intent"]["name"]
    tracker = DialogueStateTracker.from_events("plan-test", [
        ActionExecuted("action_session_start"), ActionExecuted("action_listen"),
        UserUttered("母の介護のこと", intent={"name": "consult", "confidence": 0.9})], agent.domain.slots)
    planned, by_dask = both(lambda: agent.processor.predict_next_with_tracker(tracker))
    assert planned == by_dask and planned["policy"]


def test_action_requests_are_encoded_to_the_same_json():
    import asyncio
    import json
    import math
    rasa_speedups.install()
    from rasa.utils.endpoints import EndpointConfig
    payload = {"next_action": "action_route_worry", "sender_id": "web-abc", "version": "3.6.21",
               "tracker": {"events": [{"event": "user", "text": "母の介護/相談", "timestamp": 1764480000.123456,
                                       "parse_data": {"intent": {"name": "worry_elderly", "confidence": 0.9465},
                                                      "scores": [0.1, 1e-7, 0.30000000000000004, 2 ** 60]}},
                                      {"event": "slot", "name": "field", "value": None}]}}
    assert json.loads(rasa_speedups.json_dumps(payload)) == payload
    assert math.isnan(json.loads(rasa_speedups.json_dumps({"x": float("nan")}))["x"])  # as the standard library
    with pytest.raises(TypeError):  # what is not JSON stays an error
        rasa_speedups.json_dumps({"x": object()})

    async def made():
        async with EndpointConfig("http://127.0.0.1:1/webhook").session() as session:
            return session._json_serialize

    assert asyncio.run(made()) is rasa_speedups.json_dumps


def test_another_rasa_version_fails_loudly_before_anything_is_patched():
    with pytest.raises(rasa_speedups.UnpatchedVersion) as raised:
        rasa_speedups.check_versions({"rasa": "3.7.0", "jsonschema": "4.17.3"})
    assert "rasa 3.6.21" in str(raised.value) and "rasa 3.7.0" in str(raised.value)
    rasa_speedups.check_versions()  # the pinned versions pass


def test_installing_says_what_it_patched(caplog, monkeypatch):
    monkeypatch.setattr(rasa_speedups, "_LOGGED", [])
    with caplog.at_level("INFO", logger=rasa_speedups.__name__):
        rasa_speedups.install()
        rasa_speedups.install()
    said = [r.getMessage() for r in caplog.records if r.name == rasa_speedups.__name__]
    assert said == ["bot/nlu/rasa_speedups.py installed: " + ", ".join(rasa_speedups.NAMES) + " (SOUDAN_SPEEDUPS)"]
