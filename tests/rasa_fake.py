"""A stand-in for ``bot.web.rasa_client.RasaClient`` in tests of the web side's own handling
(input checks, LINE's event handling), where the real Rasa would only add minutes."""
from __future__ import annotations

import threading


class FakeRasa:
    """Records what the web side sends; answers with ``answer(sender, text)``."""

    def __init__(self):
        self.calls = []
        self.answer = lambda sender, text: [{"text": "はい。どんなことか、書ける範囲で教えてください。"}]
        self.lock = threading.Lock()

    def send(self, sender, text):
        with self.lock:
            self.calls.append((sender, text))
        return self.answer(sender, text)

    def send_with_notes(self, sender, text):
        return self.send(sender, text), []  # no internal notes from this stand-in

    def health(self):
        return {"rasa": "ok", "action_server": "ok"}
