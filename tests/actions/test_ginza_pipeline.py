"""The trimmed GiNZA that config.yml points at (bot/nlu/ginza_pipeline.py, saved by `make`): the
components the project does not use are gone, the tokenizer's norms and the vectors are GiNZA's,
and the parser is there for the danger context without running on every message."""
import json

import pytest

from bot.nlu import ginza_pipeline


@pytest.fixture(scope="module")
def nlp():
    return ginza_pipeline.load()


def test_config_points_at_the_saved_pipeline_made_from_the_installed_ginza():
    path = ginza_pipeline.configured_path()
    assert ginza_pipeline.is_current(path)
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    assert meta[ginza_pipeline.SOURCE_KEY].startswith(f"ja_ginza {ginza_pipeline.source_version()}")


def test_rasa_loads_it_without_the_unused_components():
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    model = SpacyNLP.load_model(str(ginza_pipeline.configured_path().relative_to(ginza_pipeline.PROJECT_ROOT)))
    names = set(model.model.component_names)
    assert not names & set(ginza_pipeline.UNUSED_PIPES)
    assert set(ginza_pipeline.ON_DEMAND_PIPES) <= names and model.model.pipe_names == []


def test_tokenizer_norms_and_vectors_are_ginzas(nlp):
    doc = nlp("引き篭もりの子どもが死にたくて")
    assert [t.norm_ for t in doc][:3] == ["引き籠もり", "の", "子供"]
    assert doc[4].has_vector and doc[4].vector.any()  # 死に


def test_parser_runs_only_when_asked(nlp):
    assert all(t.dep_ == "" for t in nlp("母が兄に殴られた"))
    parsed = ginza_pipeline.parse(nlp, "母が兄に殴られた")
    assert parsed[0].dep_.startswith("nsubj") and parsed[0].head.text == "殴ら"


def test_a_config_without_a_project_path_is_refused(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: SpacyNLP\n    model: ja_ginza\n", encoding="utf-8")
    with pytest.raises(ginza_pipeline.PipelineConfigError):
        ginza_pipeline.configured_path(config)


def test_another_ginza_version_makes_it_stale(tmp_path, monkeypatch):
    (tmp_path / "meta.json").write_text(json.dumps({ginza_pipeline.SOURCE_KEY: ginza_pipeline.made_from()}),
                                        encoding="utf-8")
    assert ginza_pipeline.is_current(tmp_path)
    monkeypatch.setattr(ginza_pipeline, "source_version", lambda: "9.9.9")
    assert not ginza_pipeline.is_current(tmp_path)
