"""A local HTTP server that speaks the part of LINE's Messaging API the bot uses, and records
every request it receives (the real platform cannot be reached from tests).

Each recorded request: ``path``, ``headers``, ``body`` (parsed JSON or None), ``raw`` (bytes) and
``received_at`` (time.monotonic()). Set ``status`` to make it answer with an error, e.g. 400
for an expired reply token. The push endpoint honours ``X-Line-Retry-Key`` as LINE does: a key
already accepted gets 409 and nothing is sent again (``pushes()`` lists what was delivered)."""
from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional


class FakeLineApi:
    def __init__(self):
        self.requests: List[dict] = []
        self.status = 200
        self._sent = 0
        self._retry_keys = set()
        self._lock = threading.Lock()
        self._condition = threading.Condition(self._lock)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real API

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                received_at = time.monotonic()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                with fake._condition:
                    status = fake.status
                    retry_key = self.headers.get("X-Line-Retry-Key")
                    duplicate = False
                    if self.path == "/v2/bot/message/push" and retry_key and status == 200:
                        duplicate = retry_key in fake._retry_keys
                        fake._retry_keys.add(retry_key)
                        status = 409 if duplicate else status
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "raw": raw, "received_at": received_at, "status": status,
                                          "duplicate": duplicate})
                    fake._condition.notify_all()
                refusal = "The retry key is already accepted" if duplicate else "Invalid reply token"
                payload = json.dumps(fake._answer(self.path, body) if status == 200
                                     else {"message": refusal}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self.do_POST()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                if isinstance(sys.exc_info()[1], ConnectionError):
                    return  # a client closing a keep-alive connection is normal
                super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _answer(self, path: str, body) -> dict:
        """What LINE answers: the reply and push APIs list the sent messages; most others send {}."""
        if path in ("/v2/bot/message/reply", "/v2/bot/message/push") and isinstance(body, dict):
            with self._lock:
                self._sent += len(body.get("messages") or [])
                first = self._sent
            return {"sentMessages": [{"id": str(600000000000000000 + first + i), "quoteToken": f"fake-quote-{first + i}"}
                                     for i in range(len(body.get("messages") or []))]}
        return {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeLineApi":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.status = 200

    def wait_for(self, count: int, timeout: float = 20.0) -> List[dict]:
        """Block until at least ``count`` requests arrived (or timeout); return them all."""
        with self._condition:
            self._condition.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def replies(self) -> List[dict]:
        """Bodies of the reply requests received so far."""
        with self._lock:
            return [r["body"] for r in self.requests if r["path"] == "/v2/bot/message/reply"]

    def pushes(self, to: Optional[str] = None) -> List[dict]:
        """Push requests LINE accepted and delivered (not refused, not a repeated retry key),
        optionally only those to user ``to``."""
        with self._lock:
            return [r for r in self.requests if r["path"] == "/v2/bot/message/push" and r["status"] == 200
                    and isinstance(r["body"], dict) and (to is None or r["body"].get("to") == to)]

    def reply_for(self, token: str, timeout: float = 20.0) -> Optional[dict]:
        """The reply body sent with ``token`` (waits for it), or None."""
        def find():
            return next((r["body"] for r in self.requests if r["path"] == "/v2/bot/message/reply"
                         and isinstance(r["body"], dict) and r["body"].get("replyToken") == token), None)
        with self._condition:
            self._condition.wait_for(lambda: find() is not None, timeout=timeout)
            return find()
