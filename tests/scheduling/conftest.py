"""Helpers for the calls tests: slots relative to now, and the REST steps of a call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User

from .helpers import in_hours, slot


@pytest.fixture
def propose_call(api_for) -> Callable[..., dict]:
    def propose(user: User, engagement_id: int, slots: list[dict], **extra: Any) -> dict:
        response = api_for(user).post(f"/api/engagements/{engagement_id}/calls/",
                                      {"slots": slots, **extra}, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return propose


@pytest.fixture
def accept_call(api_for) -> Callable[..., dict]:
    def accept(user: User, call_id: int, index: int = 0) -> dict:
        response = api_for(user).post(f"/api/calls/{call_id}/accept/", {"slot": index},
                                      format="json")
        assert response.status_code == 200, response.json()
        return response.json()

    return accept


@pytest.fixture
def confirmed_call(client_user, advisor_user, engagement, propose_call, accept_call):
    """A call the client proposed and the advisor accepted, a day from now, 45 minutes."""

    def make(hours: float = 24, minutes: int = 45, **extra: Any) -> dict:
        call = propose_call(client_user, engagement["id"], [slot(in_hours(hours), minutes)],
                            **extra)
        return accept_call(advisor_user, call["id"])

    return make


@pytest.fixture
def stranger(make_user) -> User:
    return make_user("advisor", display_name="Stella Stranger")


@pytest.fixture
def second_engagement(make_user, advisor_user, post_project, propose) -> Callable[..., dict]:
    """Another engagement of advisor_user, with a new client (returned as ``client``)."""

    def make(**client_extra: Any) -> dict:
        other_client = make_user("client", **client_extra)
        project = post_project(other_client, title="A confidential acquisition")
        return {**propose(advisor_user, project["id"]), "client_user": other_client}

    return make
