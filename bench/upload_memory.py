"""Does the server's memory grow with the size of a file uploaded or downloaded?

1. daphne: starts a real daphne (tests/e2e/stack.py: its own database and MEDIA_ROOT),
   then for each size uploads one file over HTTP (httpx streams it from disk), downloads
   it back, and reads the daphne process's peak resident set size around each transfer:
   the kernel's high-water mark (VmHWM) is reset just before (``/proc/PID/clear_refs``,
   Linux >= 4.0) and read just after, with VmRSS sampled every 2 ms in between.
2. app: the same upload and download through Django's ASGI application in this process,
   driven the way a server with flow control drives it (the body handed over 64 KiB at a
   time, as asked for; the response consumed as sent). What grows here is the project's
   own doing; what grows only under daphne is daphne's.

    .venv/bin/python -m bench.upload_memory [--sizes-mib 1,8,24] [--runs 3]
                                            [--json bench/results/upload_memory.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.stack import running_stack

MIB = 1024 * 1024
PASSWORD = "a-long-enough-Pa55word"


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0]) * 1024
    return out


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:  # not ours to reset, or an old kernel: VmHWM is then since start
        return False


@contextmanager
def peak_rss(pid: int):
    """Yields a dict filled, on exit, with the process's RSS before, peak and after."""
    result: dict[str, int] = {}
    _reset_peak(pid)
    before = _status(pid)["VmRSS"]
    sampled = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sampled.append(_status(pid)["VmRSS"])
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        status = _status(pid)
        result.update(before=before, peak=max(status["VmHWM"], *sampled),
                      after=status["VmRSS"])


def _sample_file(directory: Path, size: int) -> tuple[Path, str]:
    """A PDF-looking file of ``size`` bytes written in 1 MiB blocks (never all in memory)."""
    path = directory / f"sample-{size}.pdf"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        out.write(head)
        digest.update(head)
        left = size - len(head) - len(b"\n%%EOF\n")
        while left > 0:
            block = os.urandom(min(MIB, left))
            out.write(block)
            digest.update(block)
            left -= len(block)
        out.write(b"\n%%EOF\n")
        digest.update(b"\n%%EOF\n")
    return path, digest.hexdigest()


def _setup_room(base: str) -> tuple[httpx.Client, int]:
    def member(username: str, role: str, **extra) -> httpx.Client:
        response = httpx.post(f"{base}/api/auth/register/", timeout=30, json={
            "username": username, "password": PASSWORD, "email": f"{username}@example.com",
            "role": role, "display_name": username, **extra})
        response.raise_for_status()
        return httpx.Client(base_url=base, timeout=120,
                            headers={"Authorization": f"Token {response.json()['token']}"})

    client, advisor = member("bench_client", "client"), member("bench_adv", "advisor")
    project = client.post("/api/projects/", json={"title": "Bench", "description": "Bench"})
    eid = advisor.post(f"/api/projects/{project.json()['id']}/proposals/", json={
        "fee_amount": "100.00", "fee_currency": "EUR", "statement": "Bench",
        "estimated_days": 1, "included_revisions": 0}).json()["id"]
    return client, eid


def _upload(http: httpx.Client, room: int, path: Path) -> dict:
    with path.open("rb") as stream:
        response = http.post(f"/api/engagements/{room}/files/",
                             files={"file": (path.name, stream, "application/pdf")})
    response.raise_for_status()
    return response.json()


def _download(http: httpx.Client, url: str) -> str:
    digest = hashlib.sha256()
    with http.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(256 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _measure(pid: int, transfer_up, transfer_down) -> tuple[dict, dict]:
    with peak_rss(pid) as up:
        record = transfer_up()
    with peak_rss(pid) as down:
        transfer_down(record)
    return up, down


def _row(size_mib: float, up: dict, down: dict) -> dict:
    return {
        "size_mib": size_mib,
        "upload_growth_mib": round((up["peak"] - up["before"]) / MIB, 1),
        "download_growth_mib": round((down["peak"] - down["before"]) / MIB, 1),
        "rss_before_mib": round(up["before"] / MIB, 1),
        "peak_mib": round(max(up["peak"], down["peak"]) / MIB, 1),
    }


def run(sizes_mib: list[float], runs: int) -> dict:
    """Each measurement on a fresh daphne: a process that has handled a big file once
    keeps the freed memory for reuse, which would hide growth from the next one."""
    results: dict = {"server": "daphne (one process)", "runs": runs, "sizes": []}
    with running_stack() as stack, tempfile.TemporaryDirectory() as tmp:
        setup_base = stack.start_daphne()
        http, room = _setup_room(setup_base)
        warm, _ = _sample_file(Path(tmp), 64 * 1024)
        for size_mib in sizes_mib:
            path, digest = _sample_file(Path(tmp), int(size_mib * MIB))
            for _ in range(runs):
                base = stack.start_daphne()
                process = stack.processes[-1]
                server = httpx.Client(base_url=base, timeout=120, headers=http.headers)
                # Warm up: load every code path once, so the measurement pays no imports.
                _download(server, _upload(server, room, warm)["download_url"])
                results["peak_resettable"] = _reset_peak(process.pid)

                def up(server=server, path=path, digest=digest) -> dict:
                    record = _upload(server, room, path)
                    assert record["sha256"] == digest, "upload hash mismatch"
                    return record

                def down(record: dict, server=server, digest=digest) -> None:
                    assert _download(server, record["download_url"]) == digest

                results["sizes"].append(_row(size_mib, *_measure(process.pid, up, down)))
                server.close()
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            path.unlink()
    return results


def app_in_process(size_mib: float) -> dict:
    """One upload and download of ``size_mib`` through Django's ASGI app in this (fresh)
    process, fed the way a server with flow control feeds it."""
    import asyncio

    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "AUTH_THROTTLE_RATE": "off",
                       "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
                       "MEDIA_ROOT": str(tmp / "media")})
    import django

    django.setup()
    from django.core.asgi import get_asgi_application
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    app = get_asgi_application()
    setup = Client()

    def member(username: str, role: str) -> str:
        response = setup.post("/api/auth/register/", content_type="application/json", data={
            "username": username, "password": PASSWORD, "email": f"{username}@example.com",
            "role": role, "display_name": username})
        return response.json()["token"]

    client_token, advisor_token = member("c", "client"), member("a", "advisor")
    project = setup.post("/api/projects/", content_type="application/json",
                         data={"title": "B", "description": "B"},
                         HTTP_AUTHORIZATION=f"Token {client_token}").json()
    room = setup.post(f"/api/projects/{project['id']}/proposals/",
                      content_type="application/json",
                      HTTP_AUTHORIZATION=f"Token {advisor_token}",
                      data={"fee_amount": "1.00", "fee_currency": "EUR", "statement": "B",
                            "estimated_days": 1, "included_revisions": 0}).json()["id"]

    async def call(method: str, path: str, headers: list, body_parts) -> tuple[int, str, bytes]:
        parts = iter(body_parts)
        status, digest, first = 0, hashlib.sha256(), b""

        async def receive():
            part = next(parts, None)
            if part is None:
                await asyncio.sleep(3600)  # nothing more; a disconnect would come here
            return {"type": "http.request", "body": part[0], "more_body": part[1]}

        async def send(message):
            nonlocal status, first
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message.get("body"):
                digest.update(message["body"])
                first = first or message["body"][:300]

        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "scheme": "http",
                 "http_version": "1.1", "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 80),
                 "headers": [(b"host", b"localhost"),
                             (b"authorization", f"Token {client_token}".encode()), *headers]}
        await app(scope, receive, send)
        return status, digest.hexdigest(), first

    def body_parts(path: Path, head: bytes, tail: bytes):
        yield head, True
        with path.open("rb") as stream:
            while chunk := stream.read(64 * 1024):
                yield chunk, True
        yield tail, False

    def transfer(path: Path) -> tuple:
        boundary = b"benchboundary"
        head = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
                b'filename="sample.pdf"\r\nContent-Type: application/pdf\r\n\r\n')
        tail = b"\r\n--" + boundary + b"--\r\n"
        headers = [(b"content-type", b"multipart/form-data; boundary=" + boundary),
                   (b"content-length",
                    str(len(head) + path.stat().st_size + len(tail)).encode())]

        def up() -> int:
            status, _, body = asyncio.run(call("POST", f"/api/engagements/{room}/files/",
                                               headers, body_parts(path, head, tail)))
            assert status == 201, body
            return json.loads(body.split(b',"room"')[0] + b"}")["id"]

        def down(file_id: int) -> str:
            status, got, _ = asyncio.run(call("GET", f"/api/files/{file_id}/download/", [],
                                              iter([(b"", False)])))
            assert status == 200
            return got

        return up, down

    warm, _ = _sample_file(tmp, 64 * 1024)
    up, down = transfer(warm)
    down(up())
    path, digest = _sample_file(tmp, int(size_mib * MIB))
    up, down = transfer(path)
    _reset_peak(os.getpid())

    def checked_down(file_id: int) -> None:
        assert down(file_id) == digest, "download hash mismatch"

    return _row(size_mib, *_measure(os.getpid(), up, checked_down))


def run_app(sizes_mib: list[float], runs: int) -> list[dict]:
    rows = []
    for size_mib in sizes_mib:
        for _ in range(runs):
            output = subprocess.run(
                [sys.executable, "-m", "bench.upload_memory", "--app-one", str(size_mib)],
                capture_output=True, text=True, check=True, timeout=300,
            ).stdout
            rows.append(json.loads(output.strip().splitlines()[-1]))
    return rows


def _table(title: str, rows: list[dict]) -> None:
    print(title)
    print(f"{'file MiB':>9} {'upload peak +MiB':>17} {'download peak +MiB':>19} "
          f"{'RSS before MiB':>15} {'peak MiB':>9}")
    for row in rows:
        print(f"{row['size_mib']:>9g} {row['upload_growth_mib']:>17} "
              f"{row['download_growth_mib']:>19} {row['rss_before_mib']:>15} "
              f"{row['peak_mib']:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes-mib", default="1,8,24")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--app-one", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.app_one is not None:  # a child of run_app: one measurement, as JSON
        print(json.dumps(app_in_process(args.app_one)))
        return
    sizes = [float(s) for s in args.sizes_mib.split(",")]
    results = run(sizes, args.runs)
    results["app_in_process"] = run_app(sizes, args.runs)
    _table(f"daphne, one process (peak reset per transfer: {results['peak_resettable']})",
           results["sizes"])
    _table("Django's ASGI app in process, fed with flow control", results["app_in_process"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
