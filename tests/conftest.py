"""Shared fixtures.

Tests run against whatever the environment names: PostgreSQL and Redis when
``DATABASE_URL`` / ``REDIS_URL`` are set (CI sets both), SQLite and the in-memory layer
otherwise. Tests that need a real service are marked ``services`` and skip without it,
except under ``REQUIRE_SERVICES=1``, where a missing service fails the run instead.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import register_user

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


HAVE_POSTGRES = settings.USING_POSTGRES
HAVE_REDIS = _redis_reachable()


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_SERVICES:
        missing = [name for name, ok in (("PostgreSQL (DATABASE_URL)", HAVE_POSTGRES),
                                         ("Redis (REDIS_URL)", HAVE_REDIS)) if not ok]
        if missing:
            raise pytest.UsageError(
                "REQUIRE_SERVICES=1 but not configured or not reachable: " + ", ".join(missing)
            )


def needs_postgres() -> None:
    if not HAVE_POSTGRES:
        if REQUIRE_SERVICES:
            pytest.fail("PostgreSQL required (REQUIRE_SERVICES=1)")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


def needs_redis() -> None:
    if not HAVE_REDIS:
        if REQUIRE_SERVICES:
            pytest.fail("Redis required (REQUIRE_SERVICES=1)")
        pytest.skip("needs Redis (set REDIS_URL)")


@pytest.fixture
def postgres() -> None:
    needs_postgres()


@pytest.fixture
def redis_service() -> None:
    needs_redis()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # PBKDF2's deliberate slowness costs ~0.3 s per user; tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests sign up many users from one address; the throttle has its own test.
    settings.AUTH_THROTTLE_RATE = None


_counter = itertools.count(1)


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(role: str = "client", *, skills: tuple[str, ...] = (), **extra: Any) -> User:
        n = next(_counter)
        username = extra.pop("username", f"{role}{n}")
        return register_user(
            username=username,
            password="a-long-enough-Pa55word",
            email=f"{username}@example.com",
            role=role,
            display_name=extra.pop("display_name", f"{role.title()} {n}"),
            timezone=extra.pop("timezone", "UTC"),
            skills=skills,
        )

    return make


@pytest.fixture
def api_for() -> Callable[[User | None], APIClient]:
    """An API client authenticated with the user's token (or anonymous for None)."""

    def make(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def client_user(make_user) -> User:
    return make_user("client", display_name="Carla Client")


@pytest.fixture
def advisor_user(make_user) -> User:
    return make_user("advisor", skills=("strategy", "finance"), display_name="Ada Advisor")


PROPOSAL = {
    "fee_amount": "1500.00",
    "fee_currency": "USD",
    "statement": "I will review your unit economics and propose a pricing plan.",
    "estimated_days": 10,
    "included_revisions": 1,
}
PROJECT = {
    "title": "Pricing strategy for a B2B SaaS",
    "description": "We need a pricing and packaging review before our Series A.",
    "skills": ["strategy", "pricing"],
    "budget_min": "1000.00",
    "budget_max": "3000.00",
    "currency": "USD",
}


@pytest.fixture
def post_project(api_for) -> Callable[..., dict]:
    def post(client: User, **overrides: Any) -> dict:
        response = api_for(client).post("/api/projects/", {**PROJECT, **overrides},
                                        format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return post


@pytest.fixture
def propose(api_for) -> Callable[..., dict]:
    def send(advisor: User, project_id: int, **overrides: Any) -> dict:
        response = api_for(advisor).post(
            f"/api/projects/{project_id}/proposals/", {**PROPOSAL, **overrides}, format="json"
        )
        assert response.status_code == 201, response.json()
        return response.json()

    return send


@pytest.fixture
def engagement(client_user, advisor_user, post_project, propose) -> dict:
    """A fresh proposed engagement between client_user and advisor_user."""
    project = post_project(client_user)
    return propose(advisor_user, project["id"])


@pytest.fixture
def event_kinds(api_for) -> Callable[[User, int], list[str]]:
    def kinds(user: User, engagement_id: int) -> list[str]:
        response = api_for(user).get(f"/api/engagements/{engagement_id}/events/?limit=1000")
        assert response.status_code == 200
        events = response.json()["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        return [e["kind"] for e in events]

    return kinds


@pytest.fixture(scope="module")
def live():
    """One real daphne process on a database of its own, shared by a module's tests."""
    from tests.e2e.stack import running_stack

    with running_stack() as stack:
        stack.start_daphne()
        yield stack
