"""The deal flow against a real daphne server and a real django-q2 cluster."""

from __future__ import annotations

import time

import httpx
import pytest

from .stack import running_stack

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-enough-Pa55word"


def _register(http: httpx.Client, username: str, role: str, **extra) -> httpx.Client:
    response = http.post("/api/auth/register/", json={
        "username": username, "password": PASSWORD, "email": f"{username}@example.com",
        "role": role, "display_name": username.title(), **extra})
    assert response.status_code == 201, response.text
    return httpx.Client(base_url=str(http.base_url), timeout=30,
                        headers={"Authorization": f"Token {response.json()['token']}"})


def test_story_on_a_real_server_with_automatic_approval():
    # A review window of 3 seconds: the cluster's scheduler (every ~30 s) approves it.
    with running_stack(REVIEW_WINDOW_SECONDS="3", REVIEW_REMINDER_SECONDS="1") as stack:
        base = stack.start_daphne()
        stack.start_cluster()
        with httpx.Client(base_url=base, timeout=30) as anonymous:
            client = _register(anonymous, "carla", "client")
            advisor = _register(anonymous, "ada", "advisor", skills=["pricing"])
            assert anonymous.get("/api/me/").status_code == 401
            assert anonymous.get("/api/schema/").status_code == 200

            project = client.post("/api/projects/", json={
                "title": "Pricing", "description": "Help", "skills": ["pricing"]}).json()
            proposal = advisor.post(f"/api/projects/{project['id']}/proposals/", json={
                "fee_amount": "900.00", "fee_currency": "EUR", "statement": "Plan",
                "estimated_days": 3, "included_revisions": 0})
            assert proposal.status_code == 201, proposal.text
            eid = proposal.json()["id"]
            assert client.post(f"/api/engagements/{eid}/hire/",
                               json={"version": 1}).status_code == 200
            delivered = advisor.post(f"/api/engagements/{eid}/deliver/",
                                     json={"note": "Done"})
            assert delivered.json()["state"] == "delivered", delivered.text

            # Long-poll until the cluster records the automatic approval.
            after = delivered.json()["last_seq"]
            approved = None
            deadline = time.monotonic() + 120
            while approved is None and time.monotonic() < deadline:
                page = client.get(f"/api/engagements/{eid}/events/",
                                  params={"after": after, "wait": 20}, timeout=40).json()
                for event in page["events"]:
                    if event["kind"] == "engagement.approved":
                        approved = event
                after = page["head"]
            assert approved is not None, stack.log_text()
            assert approved["data"]["automatic"] is True
            assert approved["actor"] is None
            state = client.get(f"/api/engagements/{eid}/").json()["state"]
            assert state == "completed"
            kinds = [e["kind"] for e in
                     client.get(f"/api/engagements/{eid}/events/").json()["events"]]
            assert kinds == ["proposal.submitted", "engagement.hired", "engagement.delivered",
                             "engagement.approved"]
