"""Scale-out settings without starting Rasa: the endpoints file Rasa reads, the checks that stop
a bad set-up before anything starts, the web side's server list and routing, and which failed
requests may go to the next Rasa server (real sockets: a closed port, a server that never answers)."""
from __future__ import annotations

import os
import socket
import threading

import pytest
import requests
import yaml

from bot.tools.runner import free_port
from bot.tools.scale import ScaleConfigError, ScaleStack, endpoints_yaml, stack_from_env, wanted
from bot.web.config import Settings
from bot.web.rasa_client import RasaClient, RasaUnavailable, never_sent

ACTION = "http://127.0.0.1:5055/webhook"


def test_embedded_default_has_only_the_action_endpoint():
    assert yaml.safe_load(endpoints_yaml(ACTION, {})) == {"action_endpoint": {"url": ACTION}}


def test_shared_stores_from_urls_with_passwords_left_to_rasa():
    text = endpoints_yaml(ACTION, {"TRACKER_STORE_URL": "postgresql://rasa@10.0.0.1:5433/soudan",
                                   "TRACKER_STORE_PASSWORD": "pg-secret", "LOCK_STORE_URL": "redis://10.0.0.1/2",
                                   "LOCK_STORE_PASSWORD": "redis-secret"})
    assert "pg-secret" not in text and "redis-secret" not in text  # Rasa reads them from its environment
    assert "${TRACKER_STORE_PASSWORD}" in text and "${LOCK_STORE_PASSWORD}" in text
    data = yaml.safe_load(text.replace("${", "").replace("}", ""))
    assert data["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "10.0.0.1", "port": 5433,
                                     "db": "soudan", "username": "rasa", "password": "TRACKER_STORE_PASSWORD"}
    assert data["lock_store"] == {"type": "redis", "url": "10.0.0.1", "port": 6379, "db": 2, "key_prefix": "soudan",
                                  "password": "LOCK_STORE_PASSWORD"}


@pytest.mark.parametrize("env,words", [
    ({"TRACKER_STORE_URL": "mysql://rasa@db/rasa"}, "postgresql://"),
    ({"TRACKER_STORE_URL": "postgresql://rasa:pw@db/rasa"}, "TRACKER_STORE_PASSWORD"),
    ({"TRACKER_STORE_URL": "postgresql://rasa@db:port/rasa"}, "port"),
    ({"TRACKER_STORE_URL": "postgresql://rasa@db:5432"}, "name the database"),
    ({"LOCK_STORE_URL": "redis://:pw@cache:6379/1"}, "LOCK_STORE_PASSWORD"),
    ({"LOCK_STORE_URL": "redis://cache/one"}, "number"),
    ({"LOCK_STORE_URL": "cache:6379"}, "redis://"),
])
def test_malformed_store_urls_are_refused_with_what_to_do(env, words):
    with pytest.raises(ScaleConfigError, match=words):
        endpoints_yaml(ACTION, env)


def test_per_message_routing_over_several_servers_needs_both_shared_stores():
    stack = ScaleStack(more_pairs=[(5006, 5056)], routing="message")
    with pytest.raises(ScaleConfigError, match="TRACKER_STORE_URL"):
        stack.check({"LOCK_STORE_URL": "redis://127.0.0.1/1"})
    stack.check({"LOCK_STORE_URL": "redis://127.0.0.1/1", "TRACKER_STORE_URL": "postgresql://p@127.0.0.1/rasa"})
    ScaleStack(more_pairs=[(5006, 5056)], routing="conversation").check({})  # one server per conversation


def test_make_run_settings():
    assert not wanted({}) and not wanted({"RASA_SERVERS": "1"})
    assert wanted({"RASA_SERVERS": "2"}) and wanted({"SOUDAN_ROLE": "rasa"})
    stack = stack_from_env({"RASA_SERVERS": "3", "RASA_PORT": "6000", "ACTION_PORT": "6100", "SOUDAN_ROLE": "rasa",
                            "RASA_INTERFACE": "10.0.0.2"})
    assert stack.pairs() == [(6000, 6100), (6001, 6101), (6002, 6102)]
    assert stack.role == "rasa" and stack.rasa_interface == "10.0.0.2"
    for bad in ({"RASA_SERVERS": "two"}, {"RASA_SERVERS": "0"}, {"RASA_SERVERS": "9"}):
        with pytest.raises(ScaleConfigError):
            stack_from_env(bad)
    with pytest.raises(ScaleConfigError, match="SOUDAN_ROLE"):
        ScaleStack(role="both").check({})


def test_web_side_reads_rasa_urls_and_keeps_rasa_url(monkeypatch):
    for name in ("RASA_URLS", "RASA_URL", "ACTION_SERVER_URLS", "ACTION_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env().rasa_urls == ("http://127.0.0.1:5005",)
    assert Settings.from_env().action_server_urls == ("http://127.0.0.1:5055",)
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:6005/")
    assert Settings.from_env().rasa_urls == ("http://127.0.0.1:6005",)
    monkeypatch.setenv("RASA_URLS", "http://10.0.0.1:5005, http://10.0.0.2:5005/ ,http://10.0.0.1:5005")
    monkeypatch.setenv("RASA_ROUTING", "message")
    settings = Settings.from_env()
    assert settings.rasa_urls == ("http://10.0.0.1:5005", "http://10.0.0.2:5005")
    assert ScaleStack(role="web").rasa_urls(dict(os.environ)) == list(settings.rasa_urls)  # the same parse
    assert settings.rasa_routing == "message"
    with pytest.raises(ValueError, match="RASA_ROUTING"):
        RasaClient(settings.rasa_urls, settings.action_server_urls, 1, routing="random")
    with pytest.raises(TypeError, match="lists of URLs"):
        RasaClient("http://127.0.0.1:9", settings.action_server_urls, 1)


def test_per_message_routing_alternates_each_conversation_and_conversation_routing_stays():
    urls = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
    spread = RasaClient(urls, ["http://127.0.0.1:9"], 1, routing="message")
    for sender in ("web-aaaaaaaa", "web-bbbbbbbb", "web-cccccccc"):
        firsts = [spread.order(sender)[0] for _ in range(6)]
        assert firsts[0::2] == [firsts[0]] * 3 and firsts[1::2] == [1 - firsts[0]] * 3
    sticky = RasaClient(urls, ["http://127.0.0.1:9"], 1)
    for sender in ("web-aaaaaaaa", "web-bbbbbbbb", "web-cccccccc"):
        assert len({sticky.order(sender)[0] for _ in range(4)}) == 1
    assert sorted(sticky.order("web-aaaaaaaa")) == [0, 1]  # the other server is the fallback


def test_a_refused_connection_may_go_to_the_next_server_a_timeout_may_not():
    closed = free_port()
    with pytest.raises(requests.RequestException) as refused:
        requests.get(f"http://127.0.0.1:{closed}/", timeout=2)
    assert never_sent(refused.value)

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # accepts, never answers: the message may be in the works there
    held = []
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    try:
        with pytest.raises(requests.RequestException) as slow:
            requests.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", data=b"x", timeout=0.5)
        assert not never_sent(slow.value)
        # Both servers: the refused one is skipped, the silent one times out, and nothing is
        # sent twice.
        client = RasaClient([f"http://127.0.0.1:{closed}", f"http://127.0.0.1:{silent.getsockname()[1]}"],
                            ["http://127.0.0.1:9"], 0.5)
        sender = next(s for s in (f"web-{i:08d}" for i in range(100)) if client.order(s)[0] == 0)
        with pytest.raises(RasaUnavailable, match="ReadTimeout"):
            client.send(sender, "こんにちは")
    finally:
        silent.close()
