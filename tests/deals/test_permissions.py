"""Who may do what to an engagement, over REST: every action against every role.

The roles: the owner of the action, the other party of the engagement, an advisor outside
it (with a proposal of their own on the same request), another client (with an engagement
of their own with the same advisor), and nobody signed in. The contract (DESIGN.md §5):
outsiders get 404 with exactly the body a nonexistent id gets, anonymous 401, a member
in the wrong role 403, the wrong state 409 naming the state, bad input 400 naming the
field. Every refused call changes nothing: the engagement and its room's log stay as
they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from rest_framework.response import Response

from accounts.models import User

MISSING = 999_999  # an engagement (and room) id that does not exist
ALL_STATES = ("proposed", "active", "delivered", "completed", "disputed", "declined",
              "withdrawn")
OPEN_ROOM_STATES = ("proposed", "active", "delivered", "completed", "disputed")
ROLES = ("client", "advisor", "outside_advisor", "other_client", "anonymous")
OUTSIDERS = ("outside_advisor", "other_client")

# How to reach each state from a fresh proposal: (who, path, body) steps over REST.
_HIRE = ("client", "hire/", {"version": 1})
_DELIVER = ("advisor", "deliver/", {"note": "Draft deck"})
ROUTES: dict[str, list[tuple[str, str, dict | None]]] = {
    "proposed": [],
    "active": [_HIRE],
    "delivered": [_HIRE, _DELIVER],
    "completed": [_HIRE, _DELIVER, ("client", "approve/", None)],
    "disputed": [_HIRE, _DELIVER, ("client", "reject/", {"reason": "Not what we agreed"})],
    "declined": [("client", "decline/", None)],
    "withdrawn": [("advisor", "withdraw/", None)],
}


@dataclass(frozen=True)
class Action:
    name: str
    method: str  # get, post or patch
    path: str  # after /api/engagements/{id}/
    body: dict[str, Any] | None
    owner: str  # "client", "advisor" or "members" (either of the two)
    states: tuple[str, ...]  # where it is allowed; role checks run in the first
    status: int = 200
    event: str | None = None  # the kind it records
    after: str | None = None  # the state it leaves behind, if it changes it
    conflict: str = "wrong_state"  # the code of a 409 in any other state

    def __str__(self) -> str:
        return self.name

    @property
    def acting_member(self) -> str:
        return "advisor" if self.owner == "advisor" else "client"


ACTIONS = [
    Action("view", "get", "", None, "members", ALL_STATES),
    Action("events", "get", "events/", None, "members", ALL_STATES),
    Action("read", "post", "read/", {"seq": 1}, "members", ALL_STATES),
    Action("message", "post", "messages/", {"body": "Hello", "client_id": "m-1"}, "members",
           OPEN_ROOM_STATES, status=201, event="message.created", conflict="room_closed"),
    Action("revise", "patch", "proposal/", {"fee_amount": "1400.00"}, "advisor",
           ("proposed",), event="proposal.revised"),
    Action("hire", "post", "hire/", {"version": 1}, "client", ("proposed",),
           event="engagement.hired", after="active"),
    Action("decline", "post", "decline/", {"reason": "Over budget"}, "client", ("proposed",),
           event="proposal.declined", after="declined"),
    Action("withdraw", "post", "withdraw/", None, "advisor", ("proposed",),
           event="proposal.withdrawn", after="withdrawn"),
    Action("deliver", "post", "deliver/", {"note": "Final deck"}, "advisor", ("active",),
           event="engagement.delivered", after="delivered"),
    Action("approve", "post", "approve/", None, "client", ("delivered",),
           event="engagement.approved", after="completed"),
    Action("request-revision", "post", "request-revision/", {"note": "More on pricing"},
           "client", ("delivered",), event="engagement.revision_requested", after="active"),
    Action("reject", "post", "reject/", {"reason": "Not what we agreed"}, "client",
           ("delivered",), event="engagement.rejected", after="disputed"),
    Action("review", "post", "review/", {"rating": 5, "comment": "Great"}, "members",
           ("completed",), status=201, event="review.posted"),
]
BY_NAME = {action.name: action for action in ACTIONS}


@dataclass
class World:
    """One engagement between ``client`` and ``advisor``, and people around it."""

    eid: int
    users: dict[str, User | None]
    api_for: Callable[[User | None], Any]
    notes: dict[str, Any] = field(default_factory=dict)

    def send(self, role: str, method: str, path: str, body: dict | None = None,
             eid: int | None = None) -> Response:
        api = self.api_for(self.users[role])
        url = f"/api/engagements/{eid or self.eid}/{path}"
        if method == "get":
            return api.get(url)
        return getattr(api, method)(url, body, format="json")

    def call(self, role: str, action: Action, *, body: Any = ..., eid: int | None = None
             ) -> Response:
        return self.send(role, action.method, action.path,
                         action.body if body is ... else body, eid=eid)

    def snapshot(self) -> tuple[dict, list[dict]]:
        """The engagement and its room's whole log, as the client sees them."""
        api = self.api_for(self.users["client"])
        detail = api.get(f"/api/engagements/{self.eid}/")
        events = api.get(f"/api/engagements/{self.eid}/events/?limit=1000")
        assert detail.status_code == 200, detail.json()
        assert events.status_code == 200, events.json()
        return detail.json(), events.json()["events"]


@pytest.fixture
def world(make_user, post_project, propose, api_for) -> Callable[..., World]:
    def build(state: str = "proposed", *, then: tuple = (), **proposal: Any) -> World:
        client, advisor = make_user("client"), make_user("advisor")
        outside_advisor, other_client = make_user("advisor"), make_user("client")
        project = post_project(client)
        eid = propose(advisor, project["id"], **proposal)["id"]
        # Neighbours: a rival proposal on the same request, and the same advisor working
        # for another client. Neither makes its holder a member of this engagement.
        propose(outside_advisor, project["id"])
        propose(advisor, post_project(other_client)["id"])
        users = {"client": client, "advisor": advisor, "outside_advisor": outside_advisor,
                 "other_client": other_client, "anonymous": None}
        w = World(eid=eid, users=users, api_for=api_for)
        for role, path, body in [*ROUTES[state], *then]:
            response = w.send(role, "post", path, body)
            assert response.status_code in (200, 201), (path, response.json())
        if not then:
            assert w.snapshot()[0]["state"] == state
        return w

    return build


def _kinds(events: list[dict]) -> list[str]:
    return [event["kind"] for event in events]


# --- every action against every role ---------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_every_action_against_every_role(world, action, role):
    w = world(action.states[0])
    before = w.snapshot()
    response = w.call(role, action)

    if role == "anonymous":
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    elif role in OUTSIDERS:
        # Not a member: the same 404, body and all, as for an engagement that never was.
        assert response.status_code == 404, response.json()
        missing = w.call(role, action, eid=MISSING)
        assert missing.status_code == 404
        assert response.json() == missing.json()
    elif action.owner in ("members", role):
        assert response.status_code == action.status, response.json()
        detail, events = w.snapshot()
        assert detail["state"] == (action.after or before[0]["state"])
        added = events[len(before[1]):]
        assert events[:len(before[1])] == before[1]
        assert _kinds(added) == ([action.event] if action.event else [])
        if action.event:
            assert added[0]["actor"] == w.users[role].pk
        return
    else:
        assert response.status_code == 403, response.json()
        assert response.json()["code"] == f"{action.owner}s_only"

    assert w.snapshot() == before


# --- the wrong state ---------------------------------------------------------------------

WRONG_STATES = [(action, state) for action in ACTIONS for state in ALL_STATES
                if state not in action.states]


@pytest.mark.parametrize(("action", "state"), WRONG_STATES,
                         ids=[f"{a}-in-{s}" for a, s in WRONG_STATES])
def test_wrong_state_is_409_naming_the_state(world, action, state):
    w = world(state)
    before = w.snapshot()
    response = w.call(action.acting_member, action)
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == action.conflict
    # A room closed to messages says so; every other refusal names the engagement's state.
    assert body["state"] == ("closed" if action.conflict == "room_closed" else state)
    assert body["detail"]
    assert w.snapshot() == before


@pytest.mark.parametrize("state", ALL_STATES)
def test_both_members_read_the_history_in_every_state(world, state):
    w = world(state)
    for role in ("client", "advisor"):
        for name in ("view", "events", "read"):
            response = w.call(role, BY_NAME[name])
            assert response.status_code == 200, (role, name, response.json())


@pytest.mark.parametrize(
    ("state", "then", "action", "body", "code", "extra"),
    [
        ("proposed", (), "hire", {"version": 2}, "version_outdated", {"current_version": 1}),
        ("delivered", (("client", "request-revision/", {"note": "Again"}), _DELIVER),
         "request-revision", None, "no_revisions_left", {}),
        ("completed", (("client", "review/", {"rating": 4}),), "review", {"rating": 5},
         "review_exists", {}),
    ],
    ids=["hire-stale-version", "revision-beyond-included", "second-review"],
)
def test_other_conflicts_name_the_state(world, state, then, action, body, code, extra):
    w = world(state, then=then)
    before = w.snapshot()
    action = BY_NAME[action]
    response = w.call("client", action, body=action.body if body is None else body)
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == code
    assert response.json()["state"] == before[0]["state"]
    assert response.json().items() >= extra.items()
    assert w.snapshot() == before


def test_a_revision_that_changes_nothing_is_refused(world):
    w = world()
    before = w.snapshot()
    response = w.call("advisor", BY_NAME["revise"], body={"fee_amount": "1500.00"})
    assert response.status_code == 400
    assert response.json()["code"] == "no_changes"
    assert w.snapshot() == before


# --- bad bodies ----------------------------------------------------------------------------

TOO_LONG = "x" * (settings.MESSAGE_MAX_LENGTH + 1)
BAD_BODIES = [
    # action, body, the field named, code
    ("message", {"client_id": "m-1"}, "body", "invalid"),
    ("message", {"body": "", "client_id": "m-1"}, "body", "message_empty"),
    ("message", {"body": "  \n\t ", "client_id": "m-1"}, "body", "message_empty"),
    ("message", {"body": TOO_LONG, "client_id": "m-1"}, "body", "message_too_long"),
    ("message", {"body": "Hello"}, "client_id", "invalid"),
    ("message", {"body": "Hello", "client_id": ""}, "client_id", "invalid"),
    ("message", {"body": "Hello", "client_id": "c" * 65}, "client_id", "invalid"),
    ("read", {}, "seq", "invalid"),
    ("read", {"seq": -1}, "seq", "invalid"),
    ("read", {"seq": "last"}, "seq", "invalid"),
    ("read", {"seq": 50}, "seq", "seq_out_of_range"),
    ("revise", {"fee_amount": "-10.00"}, "fee_amount", "invalid"),
    ("revise", {"fee_amount": "0"}, "fee_amount", "invalid"),
    ("revise", {"fee_amount": "cheap"}, "fee_amount", "invalid"),
    ("revise", {"fee_currency": "DOLLARS"}, "fee_currency", "invalid"),
    ("revise", {"statement": ""}, "statement", "invalid"),
    ("revise", {"estimated_days": 0}, "estimated_days", "invalid"),
    ("revise", {"estimated_days": "soon"}, "estimated_days", "invalid"),
    ("revise", {"included_revisions": -1}, "included_revisions", "invalid"),
    ("hire", {}, "version", "invalid"),
    ("hire", {"version": None}, "version", "invalid"),
    ("hire", {"version": "two"}, "version", "invalid"),
    ("hire", {"version": 1.5}, "version", "invalid"),
    ("hire", {"version": 0}, "version", "invalid"),
    ("decline", {"reason": "r" * 2001}, "reason", "invalid"),
    ("deliver", {}, "note", "invalid"),
    ("deliver", {"note": ""}, "note", "invalid"),
    ("deliver", {"note": "Done", "files": ["deck.pdf"]}, "files", "invalid"),
    ("request-revision", {}, "note", "invalid"),
    ("reject", {}, "reason", "invalid"),
    ("reject", {"reason": ""}, "reason", "invalid"),
    ("review", {}, "rating", "invalid"),
    ("review", {"rating": 0}, "rating", "invalid"),
    ("review", {"rating": 6}, "rating", "invalid"),
    ("review", {"rating": "five"}, "rating", "invalid"),
    ("review", {"rating": 5, "comment": "c" * 5001}, "comment", "invalid"),
]


def _bad_body_id(case: tuple) -> str:
    name, body, bad_field, code = case
    return f"{name}-{bad_field}-{code}-{str(body)[:24]}"


@pytest.mark.parametrize(("name", "body", "bad_field", "code"), BAD_BODIES,
                         ids=[_bad_body_id(case) for case in BAD_BODIES])
def test_bad_body_is_400_naming_the_field(world, name, body, bad_field, code):
    action = BY_NAME[name]
    w = world(action.states[0])
    before = w.snapshot()
    response = w.call(action.acting_member, action, body=body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert bad_field in response.json()["fields"]
    assert response.json()["detail"]
    assert w.snapshot() == before


# --- closed rooms ------------------------------------------------------------------------


@pytest.mark.parametrize(("closer", "path", "kind"),
                         [("client", "decline/", "proposal.declined"),
                          ("advisor", "withdraw/", "proposal.withdrawn")])
def test_decline_and_withdraw_close_the_room(world, closer, path, kind):
    w = world()
    for role in ("client", "advisor"):
        sent = w.send(role, "post", "messages/", {"body": "Before", "client_id": f"{role}-1"})
        assert sent.status_code == 201
    assert w.send(closer, "post", path).status_code == 200
    before = w.snapshot()
    assert _kinds(before[1])[-1] == kind
    if kind == "proposal.declined":
        assert before[1][-1]["data"]["automatic"] is False

    for role in ("client", "advisor"):
        refused = w.send(role, "post", "messages/", {"body": "After", "client_id": f"{role}-2"})
        assert refused.status_code == 409
        assert refused.json()["code"] == "room_closed"
        assert refused.json()["state"] == "closed"
    assert w.snapshot() == before


def test_a_hire_closes_the_rooms_of_the_proposals_it_declines(world, api_for):
    w = world("active")
    outsider = w.users["outside_advisor"]
    rival_eid = api_for(outsider).get("/api/engagements/").json()[0]["id"]
    rival = World(eid=rival_eid, users={**w.users, "advisor": outsider}, api_for=api_for)
    before = rival.snapshot()
    assert before[0]["state"] == "declined"
    assert _kinds(before[1]) == ["proposal.submitted", "proposal.declined"]
    assert before[1][-1]["actor"] is None
    assert before[1][-1]["data"] == {"reason": "another_advisor_hired", "automatic": True}
    refused = rival.send("advisor", "post", "messages/", {"body": "Still there?",
                                                          "client_id": "r-1"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "room_closed"
    assert rival.snapshot() == before


# --- idempotent messages -----------------------------------------------------------------


def test_the_same_client_id_twice_is_one_message(world):
    w = world()
    body = {"body": "Can you start Monday?", "client_id": "c-42"}
    first = w.send("client", "post", "messages/", body)
    assert first.status_code == 201
    before = w.snapshot()

    retry = w.send("client", "post", "messages/", body)
    assert retry.status_code == 200
    assert retry.json() == first.json()
    # A retry is recognised by its client_id alone, even if the body came out different.
    changed = w.send("client", "post", "messages/", {**body, "body": "Start Monday?"})
    assert changed.status_code == 200
    assert changed.json()["seq"] == first.json()["seq"]
    assert w.snapshot() == before
    sent = [e for e in before[1] if e["kind"] == "message.created"]
    assert [e["data"]["client_id"] for e in sent] == ["c-42"]

    # The client_id is the sender's own: the other member's "c-42" is another message.
    other = w.send("advisor", "post", "messages/", body)
    assert other.status_code == 201
    assert other.json()["seq"] == first.json()["seq"] + 1

    # A retry that arrives after the room closed still gets the original answer.
    assert w.send("client", "post", "decline/").status_code == 200
    late = w.send("client", "post", "messages/", body)
    assert late.status_code == 200
    assert late.json() == first.json()
