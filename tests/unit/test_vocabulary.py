"""The vocabulary (bot/core/fields.py) against the data: a data file that names an unknown field, agency,
kind of danger, weekday, urgency level or intent stops the start with a message naming it.
The loaders are the real ones, on temp copies of the project's data; the start-ups are real
processes (the web side's ``python -m bot.web.serve``, the action server's ``import actions``)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.core.datacheck import check_data
from bot.core.directory import DirectoryError, get_directory, load_directory
from bot.core.domain_texts import DomainTextError, category_buttons, load_category_buttons, worry_buttons
from bot.core.fields import MAIN_FIELDS, VocabularyError, channel_of_sender
from bot.core.lexicon import LEXICON_DIR, load_lexicon_file
from bot.tools.runner import free_port

DIRECTORY = PROJECT_ROOT / "directory"


def copy_of_directory(tmp_path: Path) -> Path:
    target = tmp_path / "directory"
    shutil.copytree(DIRECTORY, target)
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def agency(data: dict, slug: str) -> dict:
    return next(a for a in data["agencies"] if a["slug"] == slug)


def start(command: list, directory: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SOUDAN_DIRECTORY_DIR=str(directory), PYTHONPATH=str(PROJECT_ROOT),
               SECRET_KEY="test-secret-key", SOUDAN_DB=str(directory / "unused.db"))
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_project_data_passes_and_field_routes_come_from_agencies_yml():
    check_data()
    route = get_directory().field_route
    assert set(route) == set(MAIN_FIELDS)
    assert route == {"elderly": "kakehashi", "disability": "pastel", "child": "kodomo", "poverty": "seikatsu"}
    assert channel_of_sender("line-abc") == "line" and channel_of_sender("web-abc") == "web"


def test_web_side_does_not_start_with_an_unknown_field(tmp_path):
    directory = copy_of_directory(tmp_path)
    edit_yaml(directory / "agencies.yml", lambda d: agency(d, "kakehashi")["fields"].append("astrology"))
    done = start([sys.executable, "-m", "bot.web.serve", "--port", str(free_port())], directory)
    assert done.returncode == 2
    assert "web side cannot start" in done.stderr and "kakehashi" in done.stderr and "astrology" in done.stderr
    assert "Traceback" not in done.stderr


def test_action_server_does_not_start_when_the_lexicon_names_a_kind_the_hotlines_lack(tmp_path):
    directory = copy_of_directory(tmp_path)
    edit_yaml(directory / "hotlines.yml", lambda d: d["crisis_kinds"].pop("missing"))
    done = start([sys.executable, "-c", "import actions"], directory)
    assert done.returncode != 0
    assert "VocabularyError" in done.stderr and "lexicons/crisis.yml" in done.stderr and "'missing'" in done.stderr
    # the same copy with the kind back starts
    shutil.copy(DIRECTORY / "hotlines.yml", directory / "hotlines.yml")
    assert start([sys.executable, "-c", "import actions"], directory).returncode == 0


@pytest.mark.parametrize("change, named", [
    (lambda a, h: h["crisis_kinds"]["missing"]["lines"].append("agency:nowhere"), "agency:nowhere"),
    (lambda a, h: agency(a, "pastel")["fields"].append("elderly"), "'elderly' must be in the 'fields' of exactly one"),
    (lambda a, h: agency(a, "sogo").update(fields=["hikikomori"]), "in-between fields"),
    (lambda a, h: a["default_hours"]["weekdays"].append("someday"), "someday"),
    (lambda a, h: h["crisis_kinds"].pop("elder_abuse"), "elder_abuse"),
    (lambda a, h: h["after_hours_lines"].append("no_such_line"), "no_such_line"),
])
def test_directory_loader_names_what_is_unknown(tmp_path, change, named):
    directory = copy_of_directory(tmp_path)
    agencies = yaml.safe_load((directory / "agencies.yml").read_text(encoding="utf-8"))
    hotlines = yaml.safe_load((directory / "hotlines.yml").read_text(encoding="utf-8"))
    change(agencies, hotlines)
    for name, data in (("agencies.yml", agencies), ("hotlines.yml", hotlines)):
        (directory / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(DirectoryError, match=named):
        load_directory(directory)


def test_a_new_agency_for_a_field_is_one_entry_in_agencies_yml(tmp_path):
    """Moving a field to a new office: agencies.yml only; routing follows."""
    directory = copy_of_directory(tmp_path)

    def add(data):
        new = dict(agency(data, "seikatsu"), slug="shigoto", name="しごと相談室", fields=["poverty"])
        agency(data, "seikatsu")["fields"] = []
        data["agencies"].append(new)
    edit_yaml(directory / "agencies.yml", add)
    loaded = load_directory(directory)
    assert loaded.field_route["poverty"] == "shigoto" and "shigoto" in loaded.routes


@pytest.mark.parametrize("section, label, named", [
    ("fields", "astrology", "lexicons/fields.yml/fields"),
    ("urgency", "extreme", "lexicons/fields.yml/urgency"),
    ("topics", "horoscope", "lexicons/fields.yml/topics"),
])
def test_field_lexicon_loader_names_unknown_labels(tmp_path, section, label, named):
    shutil.copy(LEXICON_DIR / "fields.yml", tmp_path / "fields.yml")
    edit_yaml(tmp_path / "fields.yml", lambda d: d[section].update({label: ["ほしうらない"]}))
    with pytest.raises(VocabularyError, match=f"{named}: unknown .*{label}"):
        load_lexicon_file("fields.yml", tmp_path)


def test_crisis_lexicon_loader_names_an_unknown_kind(tmp_path):
    shutil.copy(LEXICON_DIR / "crisis.yml", tmp_path / "crisis.yml")
    edit_yaml(tmp_path / "crisis.yml", lambda d: d["kinds"].update({"volcano": ["噴火"]}))
    with pytest.raises(VocabularyError, match="volcano"):
        load_lexicon_file("crisis.yml", tmp_path)


def test_category_buttons_have_one_home_and_name_intents(tmp_path):
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    greet = domain["responses"]["utter_greet"][0]["buttons"]
    assert category_buttons() == [{"title": b["title"], "payload": b["payload"]} for b in greet]
    assert "buttons" not in domain["responses"]["utter_cannot_use"][0]  # added by the action, from utter_greet
    assert [b["payload"] for b in worry_buttons()] == ["/worry_elderly", "/worry_disability", "/worry_child",
                                                       "/worry_poverty", "/dont_know"]
    broken = tmp_path / "domain.yml"
    domain["responses"]["utter_greet"][0]["buttons"][0]["payload"] = "/worry_astrology"
    broken.write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DomainTextError, match="worry_astrology"):
        load_category_buttons(broken)


def test_training_metadata_names_only_known_kinds_and_fields():
    """The kinds and fields the NLU examples are labelled with (bot/nlu/rasa_components.py reads them
    while training) are the vocabulary's and hotlines.yml's: a typo would be dropped silently."""
    from bot.core.fields import ALL_FIELDS, check_names
    kinds = get_directory().crisis_kinds
    seen = {"kinds": 0, "fields": 0}
    for path in sorted((PROJECT_ROOT / "data").rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            metadata = block.get("metadata") or {}
            metadata = metadata.get("intent") if isinstance(metadata.get("intent"), dict) else metadata
            if metadata.get("kinds"):
                check_names(metadata["kinds"], kinds, f"{path.name}/{block.get('intent')}", "kinds")
                seen["kinds"] += 1
            if metadata.get("fields"):
                check_names(metadata["fields"], ALL_FIELDS, f"{path.name}/{block.get('intent')}", "fields")
                seen["fields"] += 1
    assert seen["kinds"] > 10 and seen["fields"] > 10
