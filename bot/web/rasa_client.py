"""Talking to Rasa's REST channel and the action server over loopback HTTP."""
from __future__ import annotations

import logging
import threading
import zlib
from collections import OrderedDict
from typing import List, Sequence, Tuple

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from bot.tools.scale import ROUTINGS

logger = logging.getLogger("soudan.web")


class RasaUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with an error."""


def never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (connection refused or not made in
    time), so another server may take the message without handling it twice."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)


def split_notes(rasa_messages: List[dict]) -> Tuple[List[dict], List[dict]]:
    """Rasa's messages and the action server's internal notes apart. A note is a message whose
    ``custom`` holds ``{"internal": {...}}`` (see ``actions.common.note``): facts for the web side
    (a conversation's outcome, a handoff's reference) that a resident never sees."""
    shown, notes = [], []
    for message in rasa_messages or []:
        custom = message.get("custom") if isinstance(message, dict) else None
        if isinstance(custom, dict) and "internal" in custom:
            if isinstance(custom["internal"], dict):
                notes.append(custom["internal"])
        else:
            shown.append(message)
    return shown, notes


def to_widget_messages(rasa_messages: List[dict]) -> List[dict]:
    """Rasa REST output with rich payloads made self-describing: a message that carries only
    ``custom`` gets the plain ``text`` from inside it; ``recipient_id`` is dropped."""
    out = []
    for message in rasa_messages or []:
        if not isinstance(message, dict):
            continue
        item = {k: v for k, v in message.items() if k != "recipient_id"}
        custom = item.get("custom")
        if isinstance(custom, dict) and not item.get("text") and custom.get("text"):
            item["text"] = custom["text"]
        if item.get("text") or item.get("custom") or item.get("buttons"):
            out.append(item)
    return out


RECENT_SENDERS = 10_000  # conversations whose next server "message" routing remembers
CONNECT_TIMEOUT = 3.0    # seconds to open a connection to a Rasa server


class RasaClient:
    """One or several Rasa servers (``RASA_URLS``). With several, they share Rasa's SQL tracker
    store and redis lock store (docs/deployment.md), so any server can answer any message:
    ``routing="conversation"`` keeps a conversation on one server (a stable hash of the sender),
    ``"message"`` sends each conversation's consecutive messages to the servers in turn. A server
    that refuses the connection (down, restarting) is skipped for that message: the message never
    reached it, so the next server can take it; a timeout is never retried (it may have been
    handled)."""

    def __init__(self, rasa_urls: Sequence[str], action_server_urls: Sequence[str], timeout: float,
                 pool_size: int = 32, routing: str = "conversation"):
        """``rasa_urls`` and ``action_server_urls`` as ``Settings`` holds them (``bot.tools.scale.url_list``)."""
        if isinstance(rasa_urls, str) or isinstance(action_server_urls, str):
            raise TypeError("RasaClient takes lists of URLs (Settings.rasa_urls, Settings.action_server_urls)")
        self.rasa_urls, self.action_server_urls = tuple(rasa_urls), tuple(action_server_urls)
        if not self.rasa_urls or not self.action_server_urls:
            raise ValueError("at least one Rasa URL and one action server URL are needed")
        if routing not in ROUTINGS:
            raise ValueError(f"RASA_ROUTING must be one of {', '.join(ROUTINGS)} (got {routing!r})")
        self.routing = routing
        self.timeout = timeout
        self.answered = [0] * len(self.rasa_urls)  # messages each server answered (internal stats)
        self._next: "OrderedDict[str, int]" = OrderedDict()
        self._lock = threading.Lock()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=max(2, len(self.rasa_urls) + len(self.action_server_urls)),
                              pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)

    def order(self, sender: str) -> List[int]:
        """The servers to try for this sender's next message, first choice first."""
        n = len(self.rasa_urls)
        first = zlib.crc32(sender.encode("utf-8")) % n
        if self.routing == "message" and n > 1:
            with self._lock:
                turn = self._next.pop(sender, 0)
                self._next[sender] = turn + 1
                if len(self._next) > RECENT_SENDERS:
                    self._next.popitem(last=False)
            first = (first + turn) % n
        return [(first + i) % n for i in range(n)]

    def send(self, sender: str, text: str) -> List[dict]:
        """One resident message in, the bot's messages out; raises RasaUnavailable."""
        return self.send_with_notes(sender, text)[0]

    def send_with_notes(self, sender: str, text: str) -> Tuple[List[dict], List[dict]]:
        """Like ``send``, also returning the action server's internal notes (``split_notes``)."""
        order = self.order(sender)
        for attempt, index in enumerate(order):
            try:
                # A machine that is off does not refuse, it stays silent: give up connecting after
                # CONNECT_TIMEOUT so the next server still has the whole answer time.
                response = self.session.post(f"{self.rasa_urls[index]}/webhooks/rest/webhook",
                                             json={"sender": sender, "message": text},
                                             timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
                break
            except requests.RequestException as exc:
                if not never_sent(exc) or attempt == len(order) - 1:
                    raise RasaUnavailable(type(exc).__name__) from exc
                logger.warning("Rasa server %d refused the connection; trying the next one", index + 1)
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        with self._lock:
            self.answered[index] += 1
        try:
            payload = response.json()
        except ValueError as exc:
            raise RasaUnavailable("invalid JSON") from exc
        shown, notes = split_notes(payload if isinstance(payload, list) else [])
        messages = to_widget_messages(shown)
        if not messages:
            raise RasaUnavailable("empty answer")
        return messages, notes

    def _up(self, url: str) -> bool:
        try:
            return self.session.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def health(self) -> dict:
        """Each side "ok" when every configured server answers; with several, each one by number."""
        rasa = ["ok" if self._up(f"{u}/") else "down" for u in self.rasa_urls]
        actions = ["ok" if self._up(f"{u}/health") else "down" for u in self.action_server_urls]
        status = {"rasa": "ok" if all(s == "ok" for s in rasa) else "down",
                  "action_server": "ok" if all(s == "ok" for s in actions) else "down"}
        if len(rasa) > 1:
            status.update({f"rasa_{i + 1}": s for i, s in enumerate(rasa)})
        if len(actions) > 1:
            status.update({f"action_server_{i + 1}": s for i, s in enumerate(actions)})
        return status
