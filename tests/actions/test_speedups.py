"""The Rasa-process speed-ups keep behaviour: the same validation errors, the tokenizer's norms."""
import jsonschema
import pytest

from bot import rasa_speedups

SCHEMA = {"type": "object", "properties": {"events": {"type": "array"}}, "required": ["events"]}


def test_cached_validator_accepts_and_rejects_like_jsonschema():
    rasa_speedups.install()
    jsonschema.validate({"events": []}, SCHEMA)
    jsonschema.validate({"events": []}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"events": "no"}, SCHEMA)
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.validate({}, {"type": 12})


def test_ginza_keeps_tokenizer_norms_and_vectors():
    rasa_speedups.install()
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    model = SpacyNLP.load_model("ja_ginza")
    assert not set(model.model.pipe_names) & set(rasa_speedups.UNUSED_GINZA_PIPES)
    doc = model.model("引き篭もりの子どもが死にたくて")
    assert [t.norm_ for t in doc][:3] == ["引き籠もり", "の", "子供"]
    assert doc[4].has_vector and doc[4].vector.any()  # 死に


def test_parser_is_kept_for_danger_context_but_does_not_run_on_every_message():
    rasa_speedups.install()
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    nlp = SpacyNLP.load_model("ja_ginza").model
    assert "parser" not in nlp.pipe_names and "parser" in nlp.disabled
    assert all(t.dep_ == "" for t in nlp("母が兄に殴られた"))
    parsed = rasa_speedups.parse(nlp, "母が兄に殴られた")
    assert parsed[0].dep_.startswith("nsubj") and parsed[0].head.text == "殴ら"
