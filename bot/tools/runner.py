"""Start the whole stack: the action server, Rasa and the web side, and keep them together.

``python -m bot.tools.runner`` (what ``make run`` calls) starts the three processes, waits until
they are healthy, prints the URL, and then watches them: one Ctrl-C stops all three, and if one
dies the others are stopped too and the reason is printed. Tests use ``Stack`` the same way on
free ports. Standard library only at import (the start-up checks import the project's own modules).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot import PROJECT_ROOT

RASA_VENV = PROJECT_ROOT / ".venv-rasa"
WEB_VENV = PROJECT_ROOT / ".venv-web"
MODEL = PROJECT_ROOT / "models" / "soudan.tar.gz"
RUN_DIR = PROJECT_ROOT / "var" / "run"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except Exception:
        return 0


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    env: Dict[str, str]
    log_path: Path
    process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        # Own process group, so a Ctrl-C in the terminal reaches only the runner, which stops
        # the services in order.
        self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def healthy(self) -> bool:
        return _get(self.health_url) == 200

    def exited(self) -> Optional[int]:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)

    def kill(self) -> None:
        """SIGKILL, no clean-up: for fault tests."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclass
class Stack:
    host: str = "127.0.0.1"
    web_port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    db_path: Optional[Path] = None
    extra_env: Dict[str, str] = field(default_factory=dict)
    log_dir: Path = PROJECT_ROOT / "var" / "log"
    services: Dict[str, Service] = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"

    def _env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        env["PYTHONPATH"] = str(PROJECT_ROOT)
        env["PYTHONUNBUFFERED"] = "1"
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        if self.db_path:
            env["SOUDAN_DB"] = str(self.db_path)
        return env

    def _endpoints_file(self) -> Path:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        path = RUN_DIR / f"endpoints-{self.rasa_port}.yml"
        # Rasa's shared tracker and lock stores when TRACKER_STORE_URL / LOCK_STORE_URL are set
        # (bot.tools.scale; passwords stay ${...} references); in-memory otherwise.
        from bot.tools.scale import endpoints_yaml

        path.write_text(endpoints_yaml(f"http://127.0.0.1:{self.action_port}/webhook", self._env()), encoding="utf-8")
        return path

    def line_contact(self) -> Optional[bool]:
        """Whether the LINE follow-up is on (LINE_CONTACT_KEY and the LINE channel set); None when
        LINE itself is off. Raises RuntimeError when the key is malformed."""
        from bot.web.line.contact import ContactKeyError, key_from_env

        env = self._env()
        try:
            key = key_from_env(env)
        except ContactKeyError as exc:
            raise RuntimeError(str(exc)) from None
        if not (env.get("LINE_CHANNEL_SECRET") and env.get("LINE_CHANNEL_ACCESS_TOKEN")):
            return None
        return key is not None

    def service_envs(self) -> Dict[str, Dict[str, str]]:
        """The environment of each kind of process ("web", "actions", "rasa"). Only the web side
        holds LINE_CONTACT_KEY; the action server is told whether to offer the choice
        「このLINEで連絡してほしい」 (LINE_CONTACT_OFFERED), and Rasa gets neither. Raises
        RuntimeError when the key is malformed."""
        from bot.core.intake import LINE_CONTACT_ENV
        from bot.web.line.contact import KEY_ENV

        env = self._env()
        offered = "1" if self.line_contact() else "0"
        private = {k: v for k, v in env.items() if k not in (KEY_ENV, LINE_CONTACT_ENV)}
        return {"web": env, "actions": dict(private, **{LINE_CONTACT_ENV: offered}), "rasa": private}

    def build(self) -> None:
        envs = self.service_envs()
        web_env, env = envs["web"], envs["rasa"]
        rasa_bin = RASA_VENV / "bin"
        self.services = {
            "actions": Service(
                "action server",
                [str(rasa_bin / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.action_port)],
                f"http://127.0.0.1:{self.action_port}/health",
                dict(envs["actions"], SANIC_HOST="127.0.0.1"),
                self.log_dir / f"actions-{self.action_port}.log"),
            "rasa": Service(
                "Rasa",
                [str(rasa_bin / "rasa"), "run", "--model", str(MODEL), "--interface", "127.0.0.1",
                 "--port", str(self.rasa_port), "--credentials", str(PROJECT_ROOT / "credentials.yml"),
                 "--endpoints", str(self._endpoints_file())],
                f"http://127.0.0.1:{self.rasa_port}/", env, self.log_dir / f"rasa-{self.rasa_port}.log"),
            "web": Service(
                "web side",
                [str(WEB_VENV / "bin" / "python"), "-m", "bot.web.serve", "--host", self.host,
                 "--port", str(self.web_port)],
                f"http://{self.host}:{self.web_port}/healthz",
                dict(web_env, RASA_URL=f"http://127.0.0.1:{self.rasa_port}",
                     ACTION_SERVER_URL=f"http://127.0.0.1:{self.action_port}"),
                self.log_dir / f"web-{self.web_port}.log"),
        }

    def start(self, timeout: float = 180.0) -> float:
        """Start all three and wait until healthy; returns seconds taken. Raises on failure."""
        if not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}: run `make train`")
        self.build()  # a malformed LINE_CONTACT_KEY stops here, before anything starts
        started = time.monotonic()
        for service in self.services.values():
            service.start()
        deadline = started + timeout
        while time.monotonic() < deadline:
            dead = self.dead_service()
            if dead:
                self.stop()
                raise RuntimeError(dead)
            if all(s.healthy() for s in self.services.values()):
                return time.monotonic() - started
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"stack not healthy after {timeout:.0f} s; logs in {self.log_dir}")

    def dead_service(self) -> Optional[str]:
        for service in self.services.values():
            code = service.exited()
            if code is not None:
                return f"{service.name} exited with code {code}; see {service.log_path}"
        return None

    def stop(self) -> None:
        for key in ("web", "rasa", "actions"):
            if key in self.services:
                self.services[key].stop()


def line_status(stack: Stack) -> List[str]:
    """What ``make run`` says about LINE and the staff's follow-up on LINE."""
    follow_up = stack.line_contact()
    if follow_up is None:
        return ["  LINE: off (set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on)"]
    return ["  LINE: on (POST /line/webhook)",
            "  LINE follow-up by staff: " + (
                "on (residents may choose 「このLINEで連絡してほしい」; staff reply from the 受付票)" if follow_up else
                "off: LINE_CONTACT_KEY is not set, so 「このLINEで連絡してほしい」 is not offered "
                "(README「LINEでの連絡 (LINE_CONTACT_KEY)」)")]


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    stack = Stack(host=host, web_port=port, rasa_port=int(os.environ.get("RASA_PORT", "5005")),
                  action_port=int(os.environ.get("ACTION_PORT", "5055")))
    from bot.tools import scale  # several Rasa servers, or one role of a two-machine set-up (docs/deployment.md)

    if scale.wanted():
        try:
            stack = scale.stack_from_env()
        except scale.ScaleConfigError as exc:
            print(f"Could not start: {exc}", file=sys.stderr)
            return 1
        print(f"Scale-out: role {stack.role}, {len(stack.pairs())} Rasa + action server pair(s) here"
              f"{'' if stack.role == 'rasa' else ', routing by ' + stack.routing}.", flush=True)
    stopping = {"signal": None}

    def on_signal(signum, _frame):
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("Starting the action server, Rasa and the web side (Rasa needs about 30 s to load)...", flush=True)
    try:
        seconds = stack.start()
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr)
        return 1
    if isinstance(stack, scale.ScaleStack):  # its own summary; no web side with role rasa
        print(f"\nReady in {seconds:.0f} s." + ("" if stack.role == "rasa" else f"  Open {stack.web_url}/"))
        print("\n".join(stack.summary()), flush=True)
    else:
        print(f"\nReady in {seconds:.0f} s.  Open {stack.web_url}/", flush=True)
        print(f"  Rasa {stack.rasa_port} and action server {stack.action_port} listen on 127.0.0.1 only.")
    if "web" in stack.services:
        for line in line_status(stack):
            print(line)
        print("  Staff pages: /staff. There is no default account; create one with:\n"
              "    make staff-user ACCOUNT=<name> ROLE=admin")
    print("Press Ctrl-C to stop them all.", flush=True)
    while stopping["signal"] is None:
        dead = stack.dead_service()
        if dead:
            print(f"\nStopping everything: {dead}", file=sys.stderr, flush=True)
            stack.stop()
            return 1
        time.sleep(0.5)
    print("\nStopping...", flush=True)
    stack.stop()
    print("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
