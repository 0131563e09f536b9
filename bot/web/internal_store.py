"""The handoff store's internal endpoint: action servers on other machines save cases here.

At scale (docs/deployment.md) the web side stays the one owner of the SQLite file (staff pages,
audit log, retention all live there), and action servers send their saves over HTTP
(``bot.shared.handoff_store`` with ``HANDOFF_STORE_URL``). This is a separate small WSGI app on its own
listener (``HANDOFF_STORE_LISTEN``, a private or loopback ``host:port``), never on the public
port, so a reverse proxy in front of the web side cannot expose it; every request must carry
``HANDOFF_STORE_SECRET`` in the ``X-Handoff-Store-Secret`` header.

    POST /internal/handoffs               a new case         -> 201 {"ref": "482-9135"}
    POST /internal/handoffs/<ref>/case    the case again     -> 200 {"updated": true|false}
    POST /internal/handoffs/<ref>/danger  danger after it    -> 200 {"updated": true|false}
    GET  /internal/stats                  messages each Rasa server answered

A case is sent as its summary (``bot.core.summary.build_summary``, which ``bot.core.store.case_columns``
checks) with ``resident_text`` (and ``note`` when saved again); late danger as ``kinds``,
``phrases`` and ``kind_labels``.

Each save carries a request key; a repeated key returns the first answer (for a new case the
key is committed in the same transaction as the record, ``bot.core.store.create_handoff``).
"""
from __future__ import annotations

import contextlib
import hmac
import logging
import sqlite3
import threading
from typing import Iterator, Optional, Tuple

import sqlite_utils
from flask import Flask, current_app, jsonify, request

from bot.core import store
from bot.core.clock import stamp
from bot.shared.handoff_store import SECRET_HEADER
from bot.core.store import StoreError, transaction
from bot.web.errors import json_error

logger = logging.getLogger("soudan.web")


def _str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _case_values(data: dict, with_note: bool) -> Tuple[Optional[dict], Optional[str]]:
    """A save's values (the summary checked by ``bot.core.store.case_columns``), or what is wrong."""
    checks = {"summary": lambda v: isinstance(v, dict),
              "resident_text": lambda v: v is None or isinstance(v, str)}
    if with_note:
        checks["note"] = lambda v: isinstance(v, str)
    for name, ok in checks.items():
        if name not in data or not ok(data[name]):
            return None, f"missing or invalid: {name}"
    try:
        store.case_columns(data["summary"])
    except ValueError as exc:
        return None, str(exc)
    return {name: data[name] for name in checks}, None


def create_internal_app(secret: str, rasa_client=None) -> Flask:
    if len(secret) < 16:
        raise ValueError("HANDOFF_STORE_SECRET must be at least 16 characters")
    app = Flask(__name__)
    app.config.update(STORE_SECRET=secret, RASA=rasa_client, JSON_AS_ASCII=False,
                      MAX_CONTENT_LENGTH=512 * 1024)
    app.json.ensure_ascii = False
    lock = threading.Lock()  # one writer at a time in this process; SQLite serializes the rest

    @contextlib.contextmanager
    def one_writer() -> Iterator[sqlite_utils.Database]:
        """The SQLite file (migrated at start, bot.web.serve) for this process's one writer."""
        with lock, contextlib.closing(store.connect()) as db:
            yield db

    @app.before_request
    def check_secret():
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode("utf-8"), current_app.config["STORE_SECRET"].encode("utf-8")):
            return json_error(403, "forbidden", "wrong or missing secret")
        return None

    def body() -> Tuple[Optional[dict], Optional[tuple]]:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return None, json_error(400, "bad_json", "a JSON object is expected")
        key = data.get("key")
        if not isinstance(key, str) or not 16 <= len(key) <= 128:
            return None, json_error(400, "bad_key", "a request key of 16 to 128 characters is expected")
        return data, None

    @app.post("/internal/handoffs")
    def create():
        data, failure = body()
        if failure:
            return failure
        values, wrong = _case_values(data, with_note=False)
        if wrong:
            return json_error(400, "bad_field", wrong)
        try:
            with one_writer() as db:
                ref = store.create_handoff(db, values.pop("summary"), request_key=data["key"], **values)
        except StoreError as exc:
            logger.error("internal store: case not saved (%s)", type(exc).__name__)
            return json_error(503, "store_unavailable", "the case could not be saved")
        return jsonify({"ref": ref}), 201

    def keyed_update(ref: str, apply) -> tuple:
        """Run ``apply(db)`` once per request key; a repeated key returns the first answer."""
        if not store.is_valid_reference(ref):
            return json_error(404, "unknown_ref", "no such reference number")
        data, failure = body()
        if failure:
            return failure
        try:
            # The change and its key in one transaction: a repeat finds the key or nothing.
            with one_writer() as db, transaction(db):
                if store.request_done(db, data["key"]):
                    return jsonify({"updated": True}), 200
                result = apply(db, data)
                if isinstance(result, tuple):  # a 400 from the values' check
                    return result
                if result:
                    db["handoff_requests"].insert({"key": data["key"], "ref": ref, "at": stamp()})
        except (StoreError, sqlite3.Error) as exc:
            logger.error("internal store: case not updated (%s)", type(exc).__name__)
            return json_error(503, "store_unavailable", "the case could not be updated")
        return jsonify({"updated": bool(result)}), 200

    @app.post("/internal/handoffs/<ref>/case")
    def case(ref: str):
        def apply(db, data):
            values, wrong = _case_values(data, with_note=True)
            if wrong:
                return json_error(400, "bad_field", wrong)
            return store.update_case(db, ref, values.pop("summary"), **values)
        return keyed_update(ref, apply)

    @app.post("/internal/handoffs/<ref>/danger")
    def danger(ref: str):
        def apply(db, data):
            for name in ("kinds", "phrases", "kind_labels"):
                if not _str_list(data.get(name)):
                    return json_error(400, "bad_field", f"missing or invalid: {name}")
            return store.raise_danger(db, ref, data["kinds"], data["phrases"], data["kind_labels"])
        return keyed_update(ref, apply)

    @app.get("/internal/stats")
    def stats():
        client = current_app.config["RASA"]
        return jsonify({"rasa_answered": list(client.answered) if client is not None else []})

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def not_here(exc):
        return json_error(exc.code, str(exc.code), "not an internal store request")

    @app.errorhandler(Exception)
    def failed(exc):
        logger.error("internal store: unexpected %s", type(exc).__name__)
        return json_error(500, "error", "unexpected error")

    return app


def parse_listen(listen: str) -> Tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"HANDOFF_STORE_LISTEN must be host:port (got {listen!r})")
    return host.strip("[]"), int(port)


def serve_in_thread(listen: str, secret: str, rasa_client=None, threads: int = 4):
    """Start the internal endpoint on its own waitress server in a daemon thread; returns the
    server (``.close()`` stops it)."""
    from waitress.server import create_server

    host, port = parse_listen(listen)
    server = create_server(create_internal_app(secret, rasa_client), host=host, port=port, threads=threads,
                           ident="soudan-internal", clear_untrusted_proxy_headers=True)
    threading.Thread(target=server.run, name="internal-store", daemon=True).start()
    logger.info("internal handoff store listening on %s:%d", host, port)
    return server
