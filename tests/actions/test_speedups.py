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
