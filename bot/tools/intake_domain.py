"""The intake form's part of Rasa's domain, derived from bot/intake.yml (the form's one home).

Rasa needs every form question declared in its domain: a slot with its mappings, the form's
required slots, an ``action_ask_<slot>``. They are not written by hand in domain.yml. ``make``
writes the domain Rasa trains on and validates into ``var/domain/``: domain.yml as it is, and
intake_form.yml made here from bot/intake.yml. Files are rewritten only when their content
changes, so a new answer word in bot/intake.yml does not make the model retrain.

    python -m bot.tools.intake_domain [--out var/domain]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bot.core.intake import ANSWER_ENTITY, form

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
DEFAULT_OUT = PROJECT_ROOT / "var" / "domain"
FORM_NAME = "handoff_form"
VALIDATION_ACTION = f"validate_{FORM_NAME}"
# A typed message with one of these intents is not taken as the answer (the form's actions and
# Rasa's rules deal with it): a button, danger, stopping, starting over, the emergency numbers.
NOT_AN_ANSWER = ["inform", "crisis", "stop", "start_over", "emergency_info"]
HEADER = "# Made by bot/tools/intake_domain.py from bot/intake.yml (make): edit bot/intake.yml, not this file.\n"


def ask_action(slot: str) -> str:
    return f"action_ask_{slot}"


def _slot(slot: str) -> dict:
    """Filled only while the form asks this slot: by a button, or by typed text that is not a command."""
    def asked():
        return [{"active_loop": FORM_NAME, "requested_slot": slot}]
    return {"type": "text", "influence_conversation": False, "mappings": [
        {"type": "from_entity", "entity": ANSWER_ENTITY, "intent": "inform", "conditions": asked()},
        {"type": "from_text", "not_intent": list(NOT_AN_ANSWER), "conditions": asked()},
    ]}


def form_domain() -> dict:
    """The domain part of the intake form: its slots, the form and its actions."""
    slots = list(form().slots)
    return {
        "version": "3.1",
        "slots": {slot: _slot(slot) for slot in slots},
        "forms": {FORM_NAME: {"required_slots": slots}},
        "actions": [VALIDATION_ACTION] + [ask_action(slot) for slot in slots],
    }


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def write(out: Path = DEFAULT_OUT) -> list:
    """Write domain.yml and intake_form.yml into ``out``; the names of the files that changed."""
    out.mkdir(parents=True, exist_ok=True)
    generated = HEADER + yaml.safe_dump(form_domain(), allow_unicode=True, sort_keys=False)
    files = {"domain.yml": DOMAIN_FILE.read_text(encoding="utf-8"), "intake_form.yml": generated}
    return [name for name, text in files.items() if _write_if_changed(out / name, text)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    changed = write(args.out)
    if changed:
        print(f"{args.out}: wrote {', '.join(changed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
