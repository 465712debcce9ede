"""Requests and proposals over REST: every action against every role, bad input, cancel.

The roles around one request: its owner, an advisor who has not proposed, an advisor who
has, another client, and nobody signed in. Advisors see every open request; once it is
hired or cancelled only those who proposed still see it. Whoever cannot see a request
gets 404 with the body of a request that never existed; whoever sees it but may not
change it gets 403. Every refused call changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.models import User
from tests.conftest import PROJECT, PROPOSAL

MISSING = 999_999
ROLES = ("owner", "advisor", "proposer", "other_client", "anonymous")


@dataclass
class Desk:
    """One request, the people around it, and the proposer's engagement on it."""

    project_id: int
    eid: int
    users: dict[str, User | None]
    api_for: Callable[[User | None], APIClient]

    def api(self, role: str) -> APIClient:
        return self.api_for(self.users[role])

    def call(self, role: str, action: str, project_id: int | None = None) -> Response:
        method, suffix, body = PROJECT_ACTIONS[action]
        url = f"/api/projects/{project_id or self.project_id}/{suffix}"
        if method == "get":
            return self.api(role).get(url)
        return getattr(self.api(role), method)(url, body, format="json")

    def snapshot(self) -> tuple[dict, list[dict], list[list[dict]]]:
        """The request, its proposals and every proposal's room log, as the owner sees them."""
        owner = self.api("owner")
        project = owner.get(f"/api/projects/{self.project_id}/")
        proposals = owner.get(f"/api/projects/{self.project_id}/proposals/")
        assert project.status_code == 200 and proposals.status_code == 200
        logs = [owner.get(f"/api/engagements/{e['id']}/events/").json()["events"]
                for e in proposals.json()]
        return project.json(), proposals.json(), logs


@pytest.fixture
def desk(make_user, post_project, propose, api_for) -> Callable[[str], Desk]:
    def build(state: str = "open") -> Desk:
        owner, other_client = make_user("client"), make_user("client")
        advisor, proposer = make_user("advisor"), make_user("advisor")
        project = post_project(owner)
        eid = propose(proposer, project["id"])["id"]
        post_project(other_client)
        users = {"owner": owner, "advisor": advisor, "proposer": proposer,
                 "other_client": other_client, "anonymous": None}
        d = Desk(project_id=project["id"], eid=eid, users=users, api_for=api_for)
        if state == "hired":
            hired = d.api("owner").post(f"/api/engagements/{eid}/hire/", {"version": 1},
                                        format="json")
            assert hired.status_code == 200, hired.json()
        elif state == "cancelled":
            assert d.api("owner").post(f"/api/projects/{d.project_id}/cancel/").status_code \
                == 200
        assert d.snapshot()[0]["state"] == state
        return d

    return build


# --- every action against every role -------------------------------------------------------

PROJECT_ACTIONS: dict[str, tuple[str, str, dict | None]] = {
    "detail": ("get", "", None),
    "patch": ("patch", "", {"title": "Pricing and packaging review"}),
    "cancel": ("post", "cancel/", None),
    "proposals": ("get", "proposals/", None),
    "propose": ("post", "proposals/", PROPOSAL),
}
NOT_OPEN = "409 project_not_open"
# What each role gets: "STATUS" or "STATUS code".
#                 owner             advisor             proposer          other   anonymous
OPEN = {
    "detail":    ("200",             "200",              "200",             "404", "401"),
    "patch":     ("200",             "403 not_owner",    "403 not_owner",   "404", "401"),
    "cancel":    ("200",             "403 not_owner",    "403 not_owner",   "404", "401"),
    "proposals": ("200",             "200",              "200",             "404", "401"),
    "propose":   ("403 advisors_only", "201",  "409 proposal_exists",      "404", "401"),
}
# Hired or cancelled: an advisor who never proposed no longer sees the request at all.
CLOSED = {
    "detail":    ("200",             "404",              "200",             "404", "401"),
    "patch":     (NOT_OPEN,          "404",              "403 not_owner",   "404", "401"),
    "cancel":    (NOT_OPEN,          "404",              "403 not_owner",   "404", "401"),
    "proposals": ("200",             "404",              "200",             "404", "401"),
    "propose":   ("403 advisors_only", "404",            NOT_OPEN,          "404", "401"),
}
MATRIX = [
    (state, action, role, expected[ROLES.index(role)])
    for state, table in (("open", OPEN), ("hired", CLOSED), ("cancelled", CLOSED))
    for action, expected in table.items()
    for role in ROLES
]


@pytest.mark.parametrize(("state", "action", "role", "expected"), MATRIX,
                         ids=[f"{s}-{a}-{r}" for s, a, r, _ in MATRIX])
def test_every_request_action_against_every_role(desk, state, action, role, expected):
    d = desk(state)
    before = d.snapshot()
    response = d.call(role, action)
    status, _, code = expected.partition(" ")
    assert response.status_code == int(status), response.json()

    if status == "404":
        missing = d.call(role, action, project_id=MISSING)
        assert missing.status_code == 404
        assert response.json() == missing.json()
    elif status == "401":
        assert response.json()["code"] == "not_authenticated"
    elif code:
        assert response.json()["code"] == code
        if status == "409":
            # A closed request names its own state; proposal_exists names the proposal's.
            named = "proposed" if code == "proposal_exists" else state
            assert response.json()["state"] == named
    if not status.startswith("2") or action in ("detail", "proposals"):
        assert d.snapshot() == before
        return

    # The owner's changes and the new proposal took effect.
    after = d.snapshot()
    if action == "patch":
        assert after[0]["title"] == "Pricing and packaging review"
        assert after[0]["skills"] == before[0]["skills"]  # a partial update keeps the rest
    elif action == "cancel":
        assert after[0]["state"] == "cancelled"
    elif action == "propose":
        assert response.json()["state"] == "proposed"
        assert len(after[1]) == len(before[1]) + 1


def test_proposals_list_shows_the_owner_all_and_an_advisor_their_own(desk, propose):
    d = desk()
    second = propose(d.users["advisor"], d.project_id)
    ids = {role: [e["id"] for e in d.call(role, "proposals").json()]
           for role in ("owner", "advisor", "proposer")}
    assert sorted(ids["owner"]) == sorted([d.eid, second["id"]])
    assert ids["advisor"] == [second["id"]]
    assert ids["proposer"] == [d.eid]


@pytest.mark.parametrize("state", ["open", "cancelled"])
def test_listing_by_role(desk, state):
    d = desk(state)

    def listed(role: str) -> bool:
        response = d.api(role).get("/api/projects/")
        assert response.status_code == 200
        return d.project_id in [p["id"] for p in response.json()]

    assert listed("owner")
    assert not listed("other_client")
    # Advisors browse open requests only, including those they answered.
    assert listed("advisor") == listed("proposer") == (state == "open")
    anonymous = d.api("anonymous").get("/api/projects/")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"


def test_only_signed_in_clients_post_requests(make_user, api_for):
    advisor = make_user("advisor")
    refused = api_for(advisor).post("/api/projects/", PROJECT, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "clients_only"
    assert api_for(None).post("/api/projects/", PROJECT, format="json").status_code == 401
    assert api_for(advisor).get("/api/projects/").json() == []


# --- bad bodies ----------------------------------------------------------------------------

YESTERDAY = (timezone.localdate() - timedelta(days=1)).isoformat()
BAD_PROJECTS = [
    # body (over PROJECT), the field named, code
    ({"title": None}, "title", "invalid"),
    ({"title": ""}, "title", "invalid"),
    ({"description": None}, "description", "invalid"),
    ({"budget_min": "5000.00", "budget_max": "1000.00"}, "budget_max", "invalid_budget"),
    ({"budget_min": "-1.00"}, "budget_min", "invalid"),
    ({"budget_max": "lots"}, "budget_max", "invalid"),
    ({"due_date": YESTERDAY}, "due_date", "invalid"),
    ({"due_date": "next week"}, "due_date", "invalid"),
    ({"currency": "DOLLARS"}, "currency", "invalid"),
    ({"skills": "pricing"}, "skills", "invalid"),
]


def _over(base: dict, overrides: dict) -> dict:
    """``base`` with the overrides; an override of None leaves the field out."""
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


@pytest.mark.parametrize(("body", "bad_field", "code"), BAD_PROJECTS,
                         ids=[f"{f}-{c}-{b[f]}" for b, f, c in BAD_PROJECTS])
def test_bad_request_body_is_400_naming_the_field(desk, body, bad_field, code):
    d = desk()
    before = d.api("owner").get("/api/projects/").json()
    response = d.api("owner").post("/api/projects/", _over(PROJECT, body), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert bad_field in response.json()["fields"]
    assert d.api("owner").get("/api/projects/").json() == before


BAD_PATCHES = [
    ({"title": ""}, "title", "invalid"),
    # Checked against the stored budget_max (3000.00), not only within the body.
    ({"budget_min": "5000.00"}, "budget_max", "invalid_budget"),
    ({"budget_max": "10.00"}, "budget_max", "invalid_budget"),
    ({"budget_min": "-1.00"}, "budget_min", "invalid"),
    ({"due_date": YESTERDAY}, "due_date", "invalid"),
    ({"currency": "EU"}, "currency", "invalid"),
]


@pytest.mark.parametrize(("body", "bad_field", "code"), BAD_PATCHES,
                         ids=[f"{f}-{c}" for _, f, c in BAD_PATCHES])
def test_bad_patch_is_400_and_changes_nothing(desk, body, bad_field, code):
    d = desk()
    before = d.snapshot()
    response = d.api("owner").patch(f"/api/projects/{d.project_id}/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert bad_field in response.json()["fields"]
    assert d.snapshot() == before


BAD_PROPOSALS = [
    ({"fee_amount": None}, "fee_amount"),
    ({"fee_amount": "-100.00"}, "fee_amount"),
    ({"fee_amount": "0.00"}, "fee_amount"),
    ({"fee_amount": "a lot"}, "fee_amount"),
    ({"fee_currency": None}, "fee_currency"),
    ({"fee_currency": "US"}, "fee_currency"),
    ({"statement": None}, "statement"),
    ({"statement": ""}, "statement"),
    ({"estimated_days": None}, "estimated_days"),
    ({"estimated_days": 0}, "estimated_days"),
    ({"included_revisions": None}, "included_revisions"),
    ({"included_revisions": -1}, "included_revisions"),
    ({"included_revisions": "one"}, "included_revisions"),
]


@pytest.mark.parametrize(("body", "bad_field"), BAD_PROPOSALS,
                         ids=[f"{f}-{b[f]}" for b, f in BAD_PROPOSALS])
def test_bad_proposal_is_400_naming_the_field(desk, body, bad_field):
    d = desk()
    before = d.snapshot()
    response = d.api("advisor").post(f"/api/projects/{d.project_id}/proposals/",
                                     _over(PROPOSAL, body), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert bad_field in response.json()["fields"]
    assert d.snapshot() == before
    assert d.api("advisor").get("/api/engagements/").json() == []


def test_a_second_proposal_by_the_same_advisor_is_409(desk):
    d = desk()
    before = d.snapshot()
    again = d.api("proposer").post(f"/api/projects/{d.project_id}/proposals/",
                                   {**PROPOSAL, "fee_amount": "900.00"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "proposal_exists"
    assert again.json()["state"] == "proposed"
    assert again.json()["engagement"] == d.eid
    assert d.snapshot() == before


def _register(**fields: Any) -> Response:
    body = {"username": f"u{secrets.token_hex(4)}", "password": "a-long-enough-Pa55word",
            "email": "someone@example.com", "role": "client", "display_name": "Someone",
            "timezone": "Europe/Madrid", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    # Sign-up is rate limited per address; a fresh one keeps these tests out of the way of
    # others sharing the cache (Redis) within the same minute.
    address = "10.{}.{}.{}".format(*secrets.token_bytes(3))
    return APIClient(REMOTE_ADDR=address).post("/api/auth/register/", body, format="json")


@pytest.mark.parametrize(("body", "bad_field"), [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "utc+2"}, "timezone"),
    ({"role": "admin"}, "role"),
    ({"role": None}, "role"),
    ({"email": "not-an-email"}, "email"),
    ({"display_name": None}, "display_name"),
], ids=["unknown-timezone", "offset-timezone", "role-admin", "role-missing", "email",
        "display-name-missing"])
def test_bad_registration_is_400_and_creates_no_one(db, body, bad_field):
    username = f"u{secrets.token_hex(4)}"
    response = _register(username=username, **body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert bad_field in response.json()["fields"]
    assert not User.objects.filter(username=username).exists()
    # The name is still free.
    assert _register(username=username).status_code == 201


# --- cancel ------------------------------------------------------------------------------


def test_cancel_declines_every_pending_proposal_and_closes_their_rooms(
    make_user, post_project, propose, api_for
):
    owner = make_user("client")
    advisors = [make_user("advisor") for _ in range(4)]
    project = post_project(owner)
    engagements = [propose(advisor, project["id"])["id"] for advisor in advisors]
    pending, withdrawn = list(zip(advisors[:3], engagements[:3], strict=True)), engagements[3]
    assert api_for(advisors[3]).post(f"/api/engagements/{withdrawn}/withdraw/").status_code \
        == 200
    chat = api_for(owner).post(f"/api/engagements/{engagements[0]}/messages/",
                               {"body": "Any questions?", "client_id": "o-1"}, format="json")
    assert chat.status_code == 201

    def log(user: User, eid: int) -> list[dict]:
        response = api_for(user).get(f"/api/engagements/{eid}/events/")
        assert response.status_code == 200
        return response.json()["events"]

    withdrawn_log = log(owner, withdrawn)
    cancelled = api_for(owner).post(f"/api/projects/{project['id']}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"

    for advisor, eid in pending:
        events = log(advisor, eid)
        assert events[-1]["kind"] == "proposal.declined"
        assert events[-1]["actor"] is None
        assert events[-1]["data"] == {"reason": "request_cancelled", "automatic": True}
        assert [e["kind"] for e in events].count("proposal.declined") == 1
        assert api_for(advisor).get(f"/api/engagements/{eid}/").json()["state"] == "declined"
        for user, client_id in ((advisor, "a-2"), (owner, "o-2")):
            refused = api_for(user).post(f"/api/engagements/{eid}/messages/",
                                         {"body": "Still on?", "client_id": client_id},
                                         format="json")
            assert refused.status_code == 409
            assert refused.json()["code"] == "room_closed"
        assert log(advisor, eid) == events
        # The proposer still sees the request they answered, now cancelled.
        seen = api_for(advisor).get(f"/api/projects/{project['id']}/")
        assert seen.status_code == 200
        assert seen.json()["state"] == "cancelled"
    # A proposal already withdrawn is left alone: no second ending.
    assert log(owner, withdrawn) == withdrawn_log
    assert api_for(owner).get(f"/api/engagements/{withdrawn}/").json()["state"] == "withdrawn"

    # Nothing more happens on a cancelled request.
    again = api_for(owner).post(f"/api/projects/{project['id']}/cancel/")
    assert again.status_code == 409
    assert again.json()["code"] == "project_not_open"
    assert again.json()["state"] == "cancelled"
    hire = api_for(owner).post(f"/api/engagements/{engagements[0]}/hire/", {"version": 1},
                               format="json")
    assert hire.status_code == 409
    assert hire.json()["state"] == "declined"
    newcomer = make_user("advisor")
    late = api_for(newcomer).post(f"/api/projects/{project['id']}/proposals/", PROPOSAL,
                                  format="json")
    never = api_for(newcomer).post(f"/api/projects/{MISSING}/proposals/", PROPOSAL,
                                   format="json")
    assert late.status_code == never.status_code == 404
    assert late.json() == never.json()


def test_cancel_after_a_hire_is_refused_and_changes_nothing(desk):
    d = desk("hired")
    before = d.snapshot()
    response = d.api("owner").post(f"/api/projects/{d.project_id}/cancel/")
    assert response.status_code == 409
    assert response.json()["code"] == "project_not_open"
    assert response.json()["state"] == "hired"
    assert d.snapshot() == before
    assert before[1][0]["state"] == "active"
