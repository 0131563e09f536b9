"""Real redis-server and PostgreSQL for the scale-out test and benchmark (Debian packages
``redis-server`` and ``postgresql``, installed by ``make scale-deps``), each in its own temporary
directory on a free loopback port, stopped and removed afterwards.

PostgreSQL refuses to run as root: as root, its commands run as the ``postgres`` system user
(created by the Debian package) through ``runuser``."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from bot.tools.runner import free_port


def _wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="soudan-redis-"))
        self.process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> "Redis":
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server is not installed: run `make scale-deps`")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port)
        return self

    def command(self, *words: str, db: int = 0) -> str:
        """One command over the Redis protocol (inline form) in database ``db``; the answer as
        text (a bulk answer's body)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(f"SELECT {db}\r\n{' '.join(words)}\r\n".encode("utf-8"))
            data = b""
            while True:
                data += s.recv(65536)
                lines = data.split(b"\r\n", 1)
                if len(lines) < 2:
                    continue
                answer = lines[1]  # after the SELECT's +OK
                if answer.startswith(b"$"):
                    size, _, body = answer.partition(b"\r\n")
                    if len(body) >= int(size[1:]):
                        return body[:int(size[1:])].decode("utf-8", "replace")
                elif answer.endswith(b"\r\n"):
                    return answer.decode("utf-8", "replace").strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<ver>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make scale-deps`")
    return Path(found[-1]).parent


class Postgres:
    """A throw-away cluster: trust authentication on 127.0.0.1 only, one database ``rasa``."""

    user = "postgres"
    database = "rasa"

    def __init__(self) -> None:
        self.port = free_port()
        self.bin = postgres_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="soudan-pg-"))
        self.data = self.dir / "data"
        self.as_other = os.geteuid() == 0
        if self.as_other:
            shutil.chown(self.dir, user="postgres", group="postgres")
        self.started = False

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, args: List[str], timeout: float = 120.0) -> str:
        command = (["runuser", "-u", "postgres", "--"] if self.as_other else []) + args
        done = subprocess.run(command, cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def start(self) -> "Postgres":
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust",
                   "-E", "UTF8", "--no-locale", "--no-sync"])
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "pg.log"),
                   "-w", "-t", "60", "start"])
        self.started = True
        self.sql(f"CREATE DATABASE {self.database}", database="postgres")
        return self

    def sql(self, query: str, database: Optional[str] = None) -> str:
        """Run one query with psql; its rows as tab-separated text."""
        return self._run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
                          "-d", database or self.database, "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-c", query]).strip()

    def stop(self) -> None:
        if self.started:
            try:
                self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)
