"""LINE_CONTACT_KEY at start-up and the choice 「このLINEで連絡してほしい」: a malformed key stops
``make run`` before anything starts, no key means the choice is not offered (and ``make run``
says so), and only the web side ever gets the key."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from bot import PROJECT_ROOT
from bot.core.intake import LINE_CONTACT_ENV, form, offered_extras, read_answer
from bot.tools.runner import Stack, line_status
from bot.web.line.contact import ContactKeyError, Vault, key_from_env, parse_key
from tests.line.helpers import TEST_CONTACT_KEY

LINE_ON = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
CHOICE = "このLINEで連絡してほしい"


@pytest.mark.parametrize("bad", ["abc", "x" * 44, TEST_CONTACT_KEY[:-2], TEST_CONTACT_KEY + "A",
                                 TEST_CONTACT_KEY.replace("_", "/"), "あ" * 44, "0" * 64])
def test_a_malformed_key_is_refused_without_showing_it(bad):
    with pytest.raises(ContactKeyError) as info:
        parse_key(bad)
    assert "LINE_CONTACT_KEY" in str(info.value) and bad not in str(info.value)


def test_a_generated_key_works_and_hashes_are_keyed():
    key = parse_key(Fernet.generate_key().decode())
    vault, other = Vault(key), Vault(parse_key(TEST_CONTACT_KEY))
    user = "U" + "0123456789abcdef" * 2
    token = vault.encrypt(user)
    assert user not in token and vault.decrypt(token) == user
    assert other.decrypt(token) is None  # another key cannot read it
    assert vault.lookup_hash(user) == vault.lookup_hash(user) != other.lookup_hash(user)
    assert key_from_env({}) is None and key_from_env({"LINE_CONTACT_KEY": "  "}) is None


def test_the_stack_refuses_a_malformed_key_before_starting(tmp_path):
    stack = Stack(extra_env=dict(LINE_ON, LINE_CONTACT_KEY="not-a-key"), log_dir=tmp_path)
    with pytest.raises(RuntimeError, match="LINE_CONTACT_KEY is malformed"):
        stack.build()
    assert stack.services == {}


def test_make_run_stops_with_a_clear_message_on_a_malformed_key(tmp_path):
    env = dict(os.environ, **LINE_ON, LINE_CONTACT_KEY="short", PYTHONPATH=str(PROJECT_ROOT),
               PORT="0", SOUDAN_DB=str(tmp_path / "x.db"))
    result = subprocess.run([sys.executable, "-m", "bot.tools.runner"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "Could not start: LINE_CONTACT_KEY is malformed" in result.stderr
    assert "Traceback" not in result.stderr and "short" not in result.stderr.replace("shorter", "")


def test_only_the_web_side_gets_the_key_and_the_action_server_only_a_flag(tmp_path):
    stack = Stack(extra_env=dict(LINE_ON, LINE_CONTACT_KEY=TEST_CONTACT_KEY), log_dir=tmp_path)
    stack.build()
    envs = {name: service.env for name, service in stack.services.items()}
    assert envs["web"]["LINE_CONTACT_KEY"] == TEST_CONTACT_KEY
    assert "LINE_CONTACT_KEY" not in envs["actions"] and "LINE_CONTACT_KEY" not in envs["rasa"]
    assert envs["actions"][LINE_CONTACT_ENV] == "1" and LINE_CONTACT_ENV not in envs["rasa"]
    assert any("follow-up by staff: on" in line for line in line_status(stack))


def test_without_the_key_the_choice_is_off_and_make_run_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("LINE_CONTACT_KEY", raising=False)
    stack = Stack(extra_env=dict(LINE_ON), log_dir=tmp_path)
    stack.build()
    assert stack.services["actions"].env[LINE_CONTACT_ENV] == "0"
    said = "\n".join(line_status(stack))
    assert "LINE_CONTACT_KEY is not set" in said and CHOICE in said
    # LINE itself off: nothing about the follow-up.
    monkeypatch.delenv("LINE_CHANNEL_SECRET", raising=False)
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    assert line_status(Stack(log_dir=tmp_path)) == [
        "  LINE: off (set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on)"]


def test_the_choice_is_offered_only_on_line_with_the_flag():
    assert offered_extras("line", {LINE_CONTACT_ENV: "1"}) == ("line_contact",)
    assert offered_extras("web", {LINE_CONTACT_ENV: "1"}) == ()
    assert offered_extras("line", {LINE_CONTACT_ENV: "0"}) == offered_extras("line", {}) == ()
    on = [b["title"] for b in form().buttons("contact_method", {}, offered_extras("line", {LINE_CONTACT_ENV: "1"}))]
    off = [b["title"] for b in form().buttons("contact_method", {}, ())]
    assert CHOICE in on and CHOICE not in off and on[:len(off) - 1] == off[:-1]
    assert read_answer("contact_method", "LINEで連絡してほしいです", None, ("line_contact",)).value == "LINE"
    assert read_answer("contact_method", "LINEで連絡してほしいです").kind == "unclear"
    # A LINE contact asks the (optional) name, not a phone number or a time.
    assert form().required({"consulter": "本人", "contact_method": "LINE"})[-1] == "contact_name"
