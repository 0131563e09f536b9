"""GiNZA trimmed to what this project uses, saved once at set-up where config.yml's SpacyNLP points.

The pipeline reads GiNZA's tokenizer (Sudachi normalised forms, readings) and its static word
vectors on every message, and the dependency parse only for a message with a danger sign
(bot.core.danger). ja_ginza also ships a named-entity recogniser, a morphologizer, a compound
splitter and a bunsetu recogniser, which would run on every message for nothing. ``make`` (the
Makefile, before training) runs ``python -m bot.nlu.ginza_pipeline``, which loads ja_ginza without
them, with tok2vec and the parser present but disabled, and saves it at the ``model:`` path of
SpacyNLP in config.yml; Rasa loads that directory like any spaCy model. ``parse`` runs the two
disabled components for one text.

The saved directory records the ja_ginza version and the components left out; another installed
version (an upgrade) or another list makes ``make`` build it again, and the model retrain.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = PROJECT_ROOT / "config.yml"
SOURCE_PACKAGE = "ja_ginza"
UNUSED_PIPES = ("ner", "morphologizer", "compound_splitter", "bunsetu_recognizer", "attribute_ruler")
ON_DEMAND_PIPES = ("tok2vec", "parser")
SOURCE_KEY = "soudan_trimmed_from"  # in the saved meta.json: what it was made from, and how


class PipelineConfigError(RuntimeError):
    """config.yml does not name a project-relative directory for SpacyNLP's model."""


def configured_path(config_file: Path = CONFIG_FILE) -> Path:
    """The directory SpacyNLP loads (config.yml), made absolute from the project root."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    names = [c.get("model") for c in config.get("pipeline", []) if c.get("name") == "SpacyNLP"]
    if len(names) != 1 or not isinstance(names[0], str) or "/" not in names[0] or Path(names[0]).is_absolute():
        raise PipelineConfigError(f"{config_file.name}: SpacyNLP needs one `model:` path relative to the project "
                                  f"root (the trimmed GiNZA made by bot/nlu/ginza_pipeline.py), found {names!r}")
    return PROJECT_ROOT / names[0]


def source_version() -> str:
    import importlib.metadata
    return importlib.metadata.version(SOURCE_PACKAGE.replace("_", "-"))


def made_from() -> str:
    return f"{SOURCE_PACKAGE} {source_version()} without {','.join(UNUSED_PIPES)}"


def is_current(path: Path) -> bool:
    """The directory exists and was made from the installed ja_ginza, as this module trims it."""
    meta = path / "meta.json"
    if not meta.is_file():
        return False
    return json.loads(meta.read_text(encoding="utf-8")).get(SOURCE_KEY) == made_from()


def build(path: Path) -> None:
    """Save ja_ginza without the unused components at ``path`` (replaced whole, never half-written)."""
    import spacy

    nlp = spacy.load(SOURCE_PACKAGE, exclude=list(UNUSED_PIPES), disable=list(ON_DEMAND_PIPES))
    nlp.meta[SOURCE_KEY] = made_from()
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(partial)
    shutil.rmtree(path, ignore_errors=True)
    partial.rename(path)


def load():
    """The saved pipeline as Rasa's SpacyNLP loads it (for tools and tests outside a Rasa graph)."""
    import spacy
    return spacy.load(configured_path())


def parse(nlp, text: str):
    """The text tokenized and dependency-parsed by the disabled components."""
    doc = nlp.make_doc(text)
    for name in ON_DEMAND_PIPES:
        doc = nlp.get_pipe(name)(doc)
    return doc


def main() -> int:
    path = configured_path()
    if is_current(path):
        return 0
    print(f"Saving {SOURCE_PACKAGE} without {', '.join(UNUSED_PIPES)} at {path.relative_to(PROJECT_ROOT)}")
    build(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
