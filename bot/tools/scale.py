"""Scale-out: Rasa's own lock and tracker stores, several Rasa + action server pairs, roles.

The embedded default stays as it is: one Rasa with its in-memory tracker and lock store, one
action server, the web side, and the SQLite file for handoffs. Past one machine
(docs/deployment.md) the Rasa servers share

* the tracker store ``TRACKER_STORE_URL=postgresql://user@host:5432/db`` (Rasa's ``SQL`` store;
  the password, if any, in ``TRACKER_STORE_PASSWORD``), and
* the lock store ``LOCK_STORE_URL=redis://host:6379/1`` (Rasa's ``redis`` store; the password,
  if any, in ``LOCK_STORE_PASSWORD``),

so any Rasa server can answer any message of any conversation. The generated endpoints file
names the password variables as ``${...}``, which Rasa fills in from its environment: no secret
is written to disk. Each Rasa server talks to the action server beside it; action servers on
another machine than the web side save cases through the web side's internal endpoint
(``HANDOFF_STORE_URL``, bot/web/internal_store.py).

``ScaleStack`` is ``bot.tools.runner.Stack`` with N Rasa + action server pairs on this machine and a
role: ``all`` (web side and pairs), ``web`` (web side only, its Rasa servers elsewhere in
``RASA_URLS``) or ``rasa`` (pairs only, Rasa listening on ``RASA_INTERFACE``). ``make run`` uses
it when ``RASA_SERVERS`` is more than 1 or ``SOUDAN_ROLE`` is set. Standard library only.
"""
from __future__ import annotations

import json
import os
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

from bot.tools.runner import Service, Stack, free_port

ROLES = ("all", "web", "rasa")
ROUTINGS = ("conversation", "message")


def url_list(value: Optional[str]) -> Tuple[str, ...]:
    """The URLs of a comma-separated setting (``RASA_URLS``), each once, without trailing slashes."""
    return tuple(dict.fromkeys(u.strip().rstrip("/") for u in (value or "").split(",") if u.strip()))


class ScaleConfigError(RuntimeError):
    """A scale-out setting is malformed or missing; the message says which and how."""


def _parsed(name: str, value: str, schemes: Tuple[str, ...]) -> urllib.parse.SplitResult:
    url = urllib.parse.urlsplit(value.strip())
    if url.scheme not in schemes or not url.hostname:
        raise ScaleConfigError(f"{name} must look like {schemes[0]}://host:port/... (got {value!r})")
    if url.password:
        raise ScaleConfigError(f"{name}: put the password in {name.replace('_URL', '_PASSWORD')}, not in the URL")
    try:
        url.port
    except ValueError:
        raise ScaleConfigError(f"{name}: the port is not a number") from None
    return url


def lock_store_yaml(env: Mapping[str, str]) -> str:
    """Rasa's ``redis`` lock store from ``LOCK_STORE_URL``, or "" (in-memory, one server)."""
    value = env.get("LOCK_STORE_URL", "").strip()
    if not value:
        return ""
    url = _parsed("LOCK_STORE_URL", value, ("redis",))
    db = url.path.strip("/") or "1"
    if not db.isdigit():
        raise ScaleConfigError(f"LOCK_STORE_URL: the database after the / must be a number (got {db!r})")
    lines = ["lock_store:", "  type: redis", f"  url: {json.dumps(url.hostname)}", f"  port: {url.port or 6379}",
             f"  db: {db}", '  key_prefix: "soudan"']
    if url.username:
        lines.append(f"  username: {json.dumps(urllib.parse.unquote(url.username))}")
    if env.get("LOCK_STORE_PASSWORD"):
        lines.append("  password: ${LOCK_STORE_PASSWORD}")
    return "\n".join(lines) + "\n"


def tracker_store_yaml(env: Mapping[str, str]) -> str:
    """Rasa's ``SQL`` tracker store on PostgreSQL from ``TRACKER_STORE_URL``, or "" (in-memory)."""
    value = env.get("TRACKER_STORE_URL", "").strip()
    if not value:
        return ""
    url = _parsed("TRACKER_STORE_URL", value, ("postgresql", "postgres"))
    db = urllib.parse.unquote(url.path.strip("/"))
    if not db or "/" in db:
        raise ScaleConfigError("TRACKER_STORE_URL must name the database: postgresql://user@host:5432/rasa")
    lines = ["tracker_store:", "  type: SQL", "  dialect: postgresql", f"  url: {json.dumps(url.hostname)}",
             f"  port: {url.port or 5432}", f"  db: {json.dumps(db)}"]
    if url.username:
        lines.append(f"  username: {json.dumps(urllib.parse.unquote(url.username))}")
    if env.get("TRACKER_STORE_PASSWORD"):
        lines.append("  password: ${TRACKER_STORE_PASSWORD}")
    return "\n".join(lines) + "\n"


def endpoints_yaml(action_url: str, env: Mapping[str, str]) -> str:
    """The endpoints file of one Rasa server: its action server, and the shared stores when set."""
    return f"action_endpoint:\n  url: {json.dumps(action_url)}\n" + tracker_store_yaml(env) + lock_store_yaml(env)


def shared_stores(env: Mapping[str, str]) -> bool:
    return bool(env.get("TRACKER_STORE_URL", "").strip() and env.get("LOCK_STORE_URL", "").strip())


@dataclass
class ScaleStack(Stack):
    """``Stack`` with more Rasa + action server pairs (``more_pairs``: their (Rasa, action) ports),
    a role, the web side's routing, and optionally the internal handoff store on loopback
    (``store_port``: the action servers then save through it, as on another machine)."""

    more_pairs: List[Tuple[int, int]] = field(default_factory=list)
    role: str = "all"
    routing: str = "conversation"
    store_port: Optional[int] = None
    rasa_interface: str = "127.0.0.1"

    def pairs(self) -> List[Tuple[int, int]]:
        return [(self.rasa_port, self.action_port)] + list(self.more_pairs)

    def check(self, env: Mapping[str, str]) -> None:
        if self.role not in ROLES:
            raise ScaleConfigError(f"SOUDAN_ROLE must be one of {', '.join(ROLES)} (got {self.role!r})")
        if self.routing not in ROUTINGS:
            raise ScaleConfigError(f"RASA_ROUTING must be one of {', '.join(ROUTINGS)} (got {self.routing!r})")
        tracker_store_yaml(env), lock_store_yaml(env)  # malformed URLs stop here
        several = len(self.pairs()) > 1 or len(self.rasa_urls(env)) > 1
        if self.routing == "message" and several and not shared_stores(env):
            raise ScaleConfigError("RASA_ROUTING=message sends one conversation to several Rasa servers: "
                                   "set TRACKER_STORE_URL (PostgreSQL) and LOCK_STORE_URL (redis)")

    def rasa_urls(self, env: Mapping[str, str]) -> List[str]:
        """This machine's Rasa servers (roles all) and those listed in RASA_URLS, each once."""
        local = [f"http://127.0.0.1:{r}" for r, _ in self.pairs()] if self.role == "all" else []
        return list(dict.fromkeys(local + list(url_list(env.get("RASA_URLS")))))

    def build(self) -> None:
        env = self._env()
        self.check(env)
        store_env: Dict[str, str] = {}
        if self.store_port:
            secret = env.get("HANDOFF_STORE_SECRET") or secrets.token_hex(24)
            store_env = {"HANDOFF_STORE_SECRET": secret}
        services: Dict[str, Service] = {}
        for number, (rasa_port, action_port) in enumerate(self.pairs(), start=1):
            pair_env = dict(self.extra_env, **store_env)
            if self.store_port:
                pair_env["HANDOFF_STORE_URL"] = f"http://127.0.0.1:{self.store_port}"
            pair = Stack(host=self.host, web_port=self.web_port, rasa_port=rasa_port, action_port=action_port,
                         db_path=self.db_path, extra_env=pair_env, log_dir=self.log_dir)
            pair.build()
            rasa = pair.services["rasa"]
            if self.rasa_interface != "127.0.0.1":
                at = rasa.command.index("--interface") + 1
                rasa.command[at] = self.rasa_interface
                reach = "127.0.0.1" if self.rasa_interface in ("0.0.0.0", "::") else self.rasa_interface
                rasa.health_url = f"http://{reach}:{rasa_port}/"
            suffix = "" if number == 1 else f"-{number}"
            if self.role in ("all", "rasa"):
                services["actions" + suffix] = pair.services["actions"]
                services["rasa" + suffix] = rasa
                rasa.name, pair.services["actions"].name = f"Rasa {number}", f"action server {number}"
            if number == 1 and self.role in ("all", "web"):
                web_env = dict(self.extra_env, **store_env, RASA_ROUTING=self.routing,
                               RASA_URLS=",".join(self.rasa_urls(env)))
                if self.role == "all":
                    web_env["ACTION_SERVER_URLS"] = ",".join(f"http://127.0.0.1:{a}" for _, a in self.pairs())
                if self.store_port:
                    web_env["HANDOFF_STORE_LISTEN"] = f"127.0.0.1:{self.store_port}"
                web_stack = Stack(host=self.host, web_port=self.web_port, rasa_port=rasa_port,
                                  action_port=action_port, db_path=self.db_path, extra_env=web_env,
                                  log_dir=self.log_dir)
                web_stack.build()
                web = web_stack.services["web"]
                remote = [u for u in self.rasa_urls(env) if not u.startswith("http://127.0.0.1:")]
                if self.role == "web" or remote:  # Rasa servers elsewhere may start later
                    web.health_url = f"http://{self.host}:{self.web_port}/"
                services["web"] = web
        if not services.get("web") and self.role != "rasa":
            raise ScaleConfigError("no web side to start")
        self.services = services

    def summary(self) -> List[str]:
        """What ``make run`` prints once everything here is up."""
        lines = [f"  Scale-out role {self.role}: "
                 + ", ".join(f"Rasa {r} ({self.rasa_interface}) + action server {a} (127.0.0.1)"
                             for r, a in self.pairs())]
        env = self._env()
        stores = [name for name, key in (("tracker store PostgreSQL", "TRACKER_STORE_URL"),
                                         ("lock store redis", "LOCK_STORE_URL")) if env.get(key)]
        lines.append("  Rasa's stores: " + (", ".join(stores) if stores else "in memory (one machine only)"))
        if self.role != "rasa":
            lines.append(f"  Web side routes by {self.routing} over {len(self.rasa_urls(env))} Rasa server(s)")
        if env.get("HANDOFF_STORE_URL"):
            lines.append("  Cases are saved through the web side's internal store (HANDOFF_STORE_URL)")
        return lines

    def stop(self) -> None:
        for key in ["web"] + [k for k in self.services if k.startswith("rasa")] + \
                [k for k in self.services if k.startswith("actions")]:
            if key in self.services:
                self.services[key].stop()


def stack_from_env(environ: Mapping[str, str] = os.environ) -> ScaleStack:
    """The ScaleStack ``make run`` starts: ``RASA_SERVERS`` pairs from ``RASA_PORT`` and
    ``ACTION_PORT`` upwards, ``SOUDAN_ROLE``, ``RASA_ROUTING``, ``RASA_INTERFACE``."""
    try:
        count = int(environ.get("RASA_SERVERS", "1"))
        rasa_port, action_port = int(environ.get("RASA_PORT", "5005")), int(environ.get("ACTION_PORT", "5055"))
        web_port = int(environ.get("PORT", "8000"))
    except ValueError:
        raise ScaleConfigError("RASA_SERVERS, RASA_PORT, ACTION_PORT and PORT must be numbers") from None
    if not 1 <= count <= 8:
        raise ScaleConfigError("RASA_SERVERS must be between 1 and 8")
    return ScaleStack(host=environ.get("HOST", "127.0.0.1"), web_port=web_port, rasa_port=rasa_port,
                      action_port=action_port,
                      more_pairs=[(rasa_port + i, action_port + i) for i in range(1, count)],
                      role=environ.get("SOUDAN_ROLE", "all").strip() or "all",
                      routing=environ.get("RASA_ROUTING", "conversation").strip() or "conversation",
                      rasa_interface=environ.get("RASA_INTERFACE", "127.0.0.1").strip() or "127.0.0.1")


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``make run`` should start a ScaleStack instead of the plain three processes."""
    return environ.get("RASA_SERVERS", "1").strip() not in ("", "1") or bool(environ.get("SOUDAN_ROLE", "").strip())


__all__ = ["ScaleStack", "ScaleConfigError", "endpoints_yaml", "stack_from_env", "wanted", "free_port"]
