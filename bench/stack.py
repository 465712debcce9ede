"""The real server stack for a benchmark run, built on ``tests/e2e/stack.py``.

``bench_stack()`` makes a fresh PostgreSQL database (migrated) and an environment for the
subprocesses; servers are daphne processes started on free ports, each with its own
environment overrides, and stopped one by one when a scenario is done with them.
Fixtures (users, tokens, messages) are made by ``python -m bench.seed`` in a subprocess
with the stack's environment; engagements are made over REST, as a client would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.procs import proc_status
from tests.e2e.stack import DAPHNE, PYTHON, ROOT, Stack, free_port, running_stack

# What every benchmark server gets, on top of the project's defaults.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    # Fixtures sign up and fetch tickets for thousands of users from one address.
    "AUTH_THROTTLE_RATE": "off",
    # The per-socket frame rate limit (default 10/s, burst 40) would refuse a sender
    # offering more than 10 messages a second; the bench measures the server, not it.
    "WS_RATE_PER_SECOND": "1000000",
    "WS_RATE_BURST": "1000000",
}

CI_DATABASE_URL = "postgres://root@127.0.0.1:5432/test"
CI_REDIS_URL = "redis://127.0.0.1:6379/1"


def resolve_services() -> tuple[str, str]:
    """DATABASE_URL and REDIS_URL from the environment, else CI's local defaults when
    they answer. The bench measures the production shape only: PostgreSQL and Redis."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url:
        try:
            import psycopg

            psycopg.connect(CI_DATABASE_URL, connect_timeout=2).close()
            database_url = CI_DATABASE_URL
        except Exception:  # noqa: BLE001
            pass
    if not redis_url:
        try:
            import redis

            redis.Redis.from_url(CI_REDIS_URL, socket_connect_timeout=2).ping()
            redis_url = CI_REDIS_URL
        except Exception:  # noqa: BLE001
            pass
    if not database_url.startswith("postgres") or not redis_url.startswith("redis"):
        raise SystemExit(
            "bench: needs PostgreSQL and Redis, e.g.\n"
            f"  DATABASE_URL={CI_DATABASE_URL} REDIS_URL={CI_REDIS_URL} "
            "python -m bench")
    return database_url, redis_url


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def rss(self) -> int:
        return proc_status(self.pid).get("VmRSS", 0)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def log_count(self, needle: str) -> int:
        try:
            return self.log.read_text(errors="replace").count(needle)
        except FileNotFoundError:
            return 0


@dataclass
class Member:
    id: int
    username: str
    token: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "token": self.token}


@dataclass
class BenchStack:
    stack: Stack
    prefix: str
    redis_url: str
    servers: list[Server] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # fixtures shared by scenarios

    @property
    def env(self) -> dict[str, str]:
        return self.stack.env

    # --- servers ------------------------------------------------------------------------

    def start_daphne(self, name: str, app: str = "config.asgi:application",
                     health: str = "/api/schema/", **env: str) -> Server:
        port = free_port()
        fd, log_name = tempfile.mkstemp(prefix=f"bench-{name}-", suffix=".log")
        os.close(fd)
        log = Path(log_name)
        process = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(port), app],
            cwd=ROOT, env={**self.env, **env}, stdout=log.open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        server = Server(name, port, process, log)
        self.servers.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                httpx.get(f"{server.url}{health}", timeout=5)
                return server
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop(server)
        raise RuntimeError(f"daphne {name} did not start:\n{server.log_tail()}")

    def stop(self, server: Server) -> None:
        if server.process.poll() is None:
            try:
                os.killpg(server.pid, signal.SIGTERM)
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.process.wait()
            except ProcessLookupError:
                pass
        if server in self.servers:
            self.servers.remove(server)
        if os.environ.get("BENCH_KEEP_LOGS"):
            print(f"bench: kept {server.log}", file=sys.stderr)
        else:
            server.log.unlink(missing_ok=True)

    def stop_all(self) -> None:
        for server in list(self.servers):
            self.stop(server)

    # --- fixtures -----------------------------------------------------------------------

    def seed(self, command: str, **payload: Any) -> Any:
        """Run ``python -m bench.seed COMMAND`` in the stack's environment."""
        result = subprocess.run([PYTHON, "-m", "bench.seed", command], cwd=ROOT,
                                env=self.env, input=json.dumps(payload),
                                capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            raise RuntimeError(f"bench.seed {command} failed:\n{result.stderr[-4000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def users(self, count: int, role: str, *, skills: list[str] | None = None) -> list[Member]:
        rows = self.seed("users", count=count, role=role, skills=skills or [],
                         prefix=f"b{uuid.uuid4().hex[:6]}")
        return [Member(r["id"], r["username"], r["token"]) for r in rows]

    def engagements(self, base_url: str, pairs: list[tuple[Member, Member]],
                    concurrency: int = 8) -> list[int]:
        """One engagement (and room) per (client, advisor) pair, over REST: the client
        posts a request, the advisor proposes. Returns the room ids in order."""

        async def run() -> list[int]:
            limit = asyncio.Semaphore(concurrency)
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                async def one(client: Member, advisor: Member) -> int:
                    async with limit:
                        project = await http.post("/api/projects/", headers=_auth(client),
                                                  json={"title": "Bench request",
                                                        "description": "Load test",
                                                        "skills": ["bench-unmatched"]})
                        assert project.status_code == 201, project.text
                        return await _propose(http, project.json()["id"], advisor)
                return await asyncio.gather(*[one(c, a) for c, a in pairs])

        return asyncio.run(run())

    def proposals_to(self, base_url: str, client: Member, advisors: list[Member]) -> list[int]:
        """One request by ``client`` with a proposal from each advisor: as many
        engagements for that client as there are advisors."""

        async def run() -> list[int]:
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                project = await http.post("/api/projects/", headers=_auth(client),
                                          json={"title": "Bench request", "description": "x",
                                                "skills": ["bench-unmatched"]})
                assert project.status_code == 201, project.text
                limit = asyncio.Semaphore(8)

                async def one(advisor: Member) -> int:
                    async with limit:
                        return await _propose(http, project.json()["id"], advisor)
                return await asyncio.gather(*[one(a) for a in advisors])

        return asyncio.run(run())

    # --- Redis --------------------------------------------------------------------------

    def redis(self):  # noqa: ANN201
        import redis

        return redis.Redis.from_url(self.redis_url)

    def prefixed_keys(self, pattern: str = "*") -> list[bytes]:
        # Group keys are "PREFIX:group:NAME", channel keys "PREFIXspecific.…" (no colon).
        return list(self.redis().scan_iter(f"{self.prefix}{pattern}", count=1000))


def _auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Token {member.token}"}


async def _propose(http: httpx.AsyncClient, project_id: int, advisor: Member) -> int:
    """The advisor's proposal on a request; returns the engagement (and room) id."""
    proposal = await http.post(f"/api/projects/{project_id}/proposals/",
                               headers=_auth(advisor),
                               json={"fee_amount": "100.00", "fee_currency": "USD",
                                     "statement": "Plan", "estimated_days": 3,
                                     "included_revisions": 1})
    assert proposal.status_code == 201, proposal.text
    return proposal.json()["id"]


@contextmanager
def bench_stack(**server_env: str) -> Iterator[BenchStack]:
    """A fresh database and Redis key prefix; servers are started by the scenarios."""
    database_url, redis_url = resolve_services()
    os.environ["DATABASE_URL"] = database_url  # running_stack() reads it from here
    os.environ["REDIS_URL"] = redis_url
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = {**BENCH_ENV, "REDIS_URL": redis_url, "BENCH_REDIS_PREFIX": prefix, **server_env}
    with running_stack(**env) as stack:
        bench = BenchStack(stack, prefix, redis_url)
        try:
            yield bench
        finally:
            bench.stop_all()
            try:
                store = bench.redis()
                keys = bench.prefixed_keys()
                for start in range(0, len(keys), 500):
                    store.delete(*keys[start:start + 500])
            except Exception as exc:  # noqa: BLE001
                print(f"bench: could not clean Redis prefix {prefix}: {exc}", file=sys.stderr)
