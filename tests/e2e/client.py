"""Small synchronous clients for tests against a running stack: REST (httpx) and
WebSocket (websockets' sync client), with helpers to wait for frames."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PASSWORD = "a-long-enough-Pa55word"
_names = itertools.count(1)


@dataclass
class Member:
    """A registered user with a token-authenticated REST client."""

    base_url: str
    id: int
    username: str
    token: str
    http: httpx.Client

    def ticket(self) -> str:
        response = self.http.post("/api/ws-ticket/")
        assert response.status_code == 201, response.text
        return response.json()["ticket"]

    def socket(self, base_url: str | None = None, **kwargs: Any) -> Socket:
        ws_url = (base_url or self.base_url).replace("http", "ws", 1)
        return Socket(connect(f"{ws_url}/ws/?ticket={self.ticket()}", **kwargs))

    def events(self, room: int, after: int = 0) -> list[dict]:
        response = self.http.get(f"/api/engagements/{room}/events/",
                                 params={"after": after, "limit": 1000})
        assert response.status_code == 200, response.text
        return response.json()["events"]

    def post_message(self, room: int, body: str, client_id: str) -> dict:
        """Send a message over REST; returns its event."""
        response = self.http.post(f"/api/engagements/{room}/messages/",
                                  json={"body": body, "client_id": client_id})
        assert response.status_code == 201, response.text
        return response.json()

    def act(self, room: int, action: str, **body: Any) -> dict:
        """A state change over REST (``hire``, ``deliver``, ``approve`` …); returns the
        engagement."""
        response = self.http.post(f"/api/engagements/{room}/{action}/", json=body)
        assert response.status_code == 200, response.text
        return response.json()


def register(base_url: str, role: str, *, prefix: str = "u", **extra: Any) -> Member:
    username = f"{prefix}{role}{next(_names)}_{int(time.time() * 1000) % 10**8}"
    response = httpx.post(f"{base_url}/api/auth/register/", json={
        "username": username, "password": PASSWORD, "email": f"{username}@example.com",
        "role": role, "display_name": username, **extra}, timeout=30)
    assert response.status_code == 201, response.text
    body = response.json()
    http = httpx.Client(base_url=base_url, timeout=30,
                        headers={"Authorization": f"Token {body['token']}"})
    return Member(base_url, body["id"], username, body["token"], http)


def session_cookie(base_url: str, username: str) -> str:
    """Sign in through the login page as a browser does; returns the session cookie."""
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        page = browser.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = browser.post("/login/", data={"username": username, "password": PASSWORD,
                                                 "csrfmiddlewaretoken": token},
                                headers={"Referer": f"{base_url}/login/"})
        assert response.status_code == 302, response.text
        return browser.cookies["sessionid"]


def start_engagement(client: Member, advisor: Member, *, skills: list[str] | None = None) -> int:
    project = client.http.post("/api/projects/", json={
        "title": "Market entry", "description": "Colombia", "skills": skills or ["strategy"]})
    assert project.status_code == 201, project.text
    proposal = advisor.http.post(f"/api/projects/{project.json()['id']}/proposals/", json={
        "fee_amount": "800.00", "fee_currency": "USD", "statement": "Plan",
        "estimated_days": 5, "included_revisions": 1})
    assert proposal.status_code == 201, proposal.text
    return proposal.json()["id"]


@dataclass
class Socket:
    ws: ClientConnection
    frames: list[dict] = field(default_factory=list)

    def send(self, frame: dict | str) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def recv(self, timeout: float = 10) -> dict:
        frame = json.loads(self.ws.recv(timeout=timeout))
        self.frames.append(frame)
        return frame

    def until(self, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        """The first frame (from now on) that matches; fails after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching frame within {timeout}s; "
                                     f"last frames: {self.frames[-5:]}")
            try:
                frame = self.recv(timeout=remaining)
            except TimeoutError:
                continue
            if predicate(frame):
                return frame

    def of_type(self, frame_type: str, timeout: float = 10, **match: Any) -> dict:
        return self.until(lambda f: f.get("type") == frame_type
                          and all(f.get(k) == v for k, v in match.items()), timeout)

    def join(self, room: int, after: int = 0, timeout: float = 15) -> list[dict]:
        """Join and return the replayed events (frames up to ``joined``)."""
        start = len(self.frames)
        self.send({"type": "join", "room": room, "after": after})
        self.of_type("joined", timeout=timeout, room=room)
        return [f for f in self.frames[start:] if f["type"] == "event" and f["room"] == room]

    def drain(self, seconds: float = 0.3) -> list[dict]:
        got = []
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got.append(self.recv(timeout=remaining))
            except TimeoutError:
                break
        return got

    def events(self, room: int) -> list[dict]:
        return [f for f in self.frames if f.get("type") == "event" and f.get("room") == room]

    def has_seq(self, room: int, seq: int) -> bool:
        return any(f["seq"] >= seq for f in self.events(room))

    def wait_for_seq(self, room: int, seq: int, timeout: float = 10) -> bool:
        """Read frames until an event of the room with seq ≥ ``seq`` has been received
        (possibly earlier); False after ``timeout`` instead of failing."""
        deadline = time.monotonic() + timeout
        while not self.has_seq(room, seq):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                self.recv(timeout=remaining)
            except TimeoutError:
                return False
        return True

    def close(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            self.ws.close()

    def close_code(self, timeout: float = 5) -> int | None:
        """Wait for the server to close the socket; return its close code."""
        try:
            while True:
                self.ws.recv(timeout=timeout)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
