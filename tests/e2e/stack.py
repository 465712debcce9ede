"""Start the real stack for end-to-end tests: daphne (and optionally a django-q2 cluster)
as subprocesses on free ports, on a database of their own.

On PostgreSQL each stack gets a fresh database, dropped afterwards; on SQLite a temp file.
Redis is shared, with a key prefix per stack so parallel runs don't meet (the settings
are ``tests.e2e.settings``: ``config.settings`` plus that prefix); its keys are deleted
afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DAPHNE = str(Path(PYTHON).with_name("daphne"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    env: dict[str, str]
    # The channel layer's prefix (groups are "<prefix>:group:<name>") and the cache's.
    redis_prefix: str = ""
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    def ws_url(self, index: int = 0) -> str:
        return f"ws://127.0.0.1:{self.ports[index]}/ws/"

    def manage(self, *args: str) -> str:
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = Path(tempfile.mkstemp(prefix=f"e2e-{name}-", suffix=".log")[1])
        self.logs.append(log)
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log.open("w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def start_daphne(self) -> str:
        port = free_port()
        self._spawn(f"daphne-{port}", [DAPHNE, "-b", "127.0.0.1", "-p", str(port),
                                       "config.asgi:application"])
        self.ports.append(port)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/schema/", timeout=2)
                return f"http://127.0.0.1:{port}"
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"daphne on {port} did not start:\n{self.logs[-1].read_text()}")

    def start_cluster(self) -> None:
        self._spawn("qcluster", [PYTHON, "manage.py", "qcluster"])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_text(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in self.logs)


@contextmanager
def running_stack(**settings: str) -> Iterator[Stack]:
    """A migrated database and environment for subprocesses; start servers on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    env.update({"DJANGO_SETTINGS_MODULE": "tests.e2e.settings", "PYTHONUNBUFFERED": "1",
                "E2E_REDIS_PREFIX": name,
                # Tests sign up many users from one address.
                "AUTH_THROTTLE_RATE": "off"})
    env.update(settings)
    database_url = os.environ.get("DATABASE_URL", "")
    tmpdir = Path(tempfile.mkdtemp(prefix="e2e-"))
    admin_url = None
    if database_url.startswith("postgres"):
        import psycopg

        parsed = urlparse(database_url)
        admin_url = urlunparse(parsed._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{name}"))
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmpdir / 'db.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmpdir / "media")
    stack = Stack(env=env, redis_prefix=name)
    try:
        stack.manage("migrate", "--noinput", "-v0")
        yield stack
    finally:
        stack.stop()
        if admin_url:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if env.get("REDIS_URL"):
            _delete_redis_keys(env["REDIS_URL"], name)
        shutil.rmtree(tmpdir, ignore_errors=True)


def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    import redis

    try:
        store = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
        keys = list(store.scan_iter(f"*{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            store.delete(*keys[start:start + 500])
    except redis.RedisError:
        pass  # only litter: every key has its own prefix
