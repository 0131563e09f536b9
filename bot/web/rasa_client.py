"""Talking to Rasa's REST channel and the action server over loopback HTTP."""
from __future__ import annotations

from typing import List, Tuple

import requests
from requests.adapters import HTTPAdapter


class RasaUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with an error."""


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


class RasaClient:
    def __init__(self, rasa_url: str, action_server_url: str, timeout: float, pool_size: int = 32):
        self.rasa_url = rasa_url
        self.action_server_url = action_server_url
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)

    def send(self, sender: str, text: str) -> List[dict]:
        """One resident message in, the bot's messages out; raises RasaUnavailable."""
        return self.send_with_notes(sender, text)[0]

    def send_with_notes(self, sender: str, text: str) -> Tuple[List[dict], List[dict]]:
        """Like ``send``, also returning the action server's internal notes (``split_notes``)."""
        try:
            response = self.session.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                         json={"sender": sender, "message": text}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
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
        return {"rasa": "ok" if self._up(f"{self.rasa_url}/") else "down",
                "action_server": "ok" if self._up(f"{self.action_server_url}/health") else "down"}
