"""The whole deal flow through REST, from sign-up to the reviews."""

from __future__ import annotations

from rest_framework.test import APIClient


def _register(api: APIClient, **fields) -> dict:
    body = {
        "password": "a-long-enough-Pa55word",
        "timezone": "Europe/Madrid",
        **fields,
        "email": f"{fields['username']}@example.com",
    }
    response = api.post("/api/auth/register/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _as(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_whole_story_over_rest(db):
    anonymous = APIClient()
    client_info = _register(anonymous, username="carla", role="client",
                            display_name="Carla")
    advisor_info = _register(anonymous, username="ada", role="advisor", display_name="Ada",
                             skills=["Pricing", "strategy"])
    assert advisor_info["skills"] == ["pricing", "strategy"]

    # Tokens come from /api/auth/token/ as well as from sign-up.
    token = anonymous.post("/api/auth/token/", {"username": "ada",
                                                "password": "a-long-enough-Pa55word"},
                           format="json").json()["token"]
    assert token == advisor_info["token"]
    client, advisor = _as(client_info["token"]), _as(advisor_info["token"])
    assert client.get("/api/me/").json()["role"] == "client"

    project = client.post("/api/projects/", {
        "title": "Pricing review", "description": "Before the Series A.",
        "skills": ["pricing"], "budget_min": "500", "budget_max": "2000",
    }, format="json").json()
    assert [p["id"] for p in advisor.get("/api/projects/?skill=pricing").json()] == [project["id"]]
    assert advisor.get("/api/projects/?q=series").json()[0]["id"] == project["id"]
    assert advisor.get("/api/projects/?skill=legal").json() == []

    response = advisor.post(f"/api/projects/{project['id']}/proposals/", {
        "fee_amount": "1200.00", "fee_currency": "usd", "statement": "Plan A",
        "estimated_days": 7, "included_revisions": 1,
    }, format="json")
    assert response.status_code == 201, response.json()
    engagement = response.json()
    eid = engagement["id"]
    assert engagement["state"] == "proposed"
    assert engagement["proposal"]["version"] == 1
    assert engagement["proposal"]["fee_currency"] == "USD"

    revised = advisor.patch(f"/api/engagements/{eid}/proposal/",
                            {"fee_amount": "1100.00", "statement": "Plan B"}, format="json")
    assert revised.status_code == 200, revised.json()
    assert revised.json()["proposal"]["version"] == 2
    assert [v["version"] for v in revised.json()["versions"]] == [1, 2]

    sent = client.post(f"/api/engagements/{eid}/messages/",
                       {"body": "Can you start Monday?", "client_id": "c-1"}, format="json")
    assert sent.status_code == 201
    advisor.post(f"/api/engagements/{eid}/messages/", {"body": "Yes.", "client_id": "a-1"},
                 format="json")

    # Hiring the old version is refused; the current one succeeds.
    stale = client.post(f"/api/engagements/{eid}/hire/", {"version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_outdated"
    hired = client.post(f"/api/engagements/{eid}/hire/", {"version": 2}, format="json")
    assert hired.status_code == 200, hired.json()
    assert hired.json()["state"] == "active"
    assert hired.json()["included_revisions"] == 1

    delivered = advisor.post(f"/api/engagements/{eid}/deliver/", {"note": "Draft 1"},
                             format="json")
    assert delivered.json()["state"] == "delivered"
    assert delivered.json()["review_deadline"] is not None
    revision = client.post(f"/api/engagements/{eid}/request-revision/",
                           {"note": "More on enterprise tier"}, format="json")
    assert revision.json()["state"] == "active"
    assert revision.json()["revisions_used"] == 1
    advisor.post(f"/api/engagements/{eid}/deliver/", {"note": "Draft 2"}, format="json")
    # The one included revision is used up.
    again = client.post(f"/api/engagements/{eid}/request-revision/", {"note": "more"},
                        format="json")
    assert again.status_code == 409
    assert again.json() | {"detail": ""} == {"code": "no_revisions_left", "state": "delivered",
                                             "detail": ""}
    approved = client.post(f"/api/engagements/{eid}/approve/")
    assert approved.json()["state"] == "completed"
    assert approved.json()["review_deadline"] is None

    review = client.post(f"/api/engagements/{eid}/review/", {"rating": 5, "comment": "Great"},
                         format="json")
    assert review.status_code == 201
    assert review.json()["revealed"] is False
    # Double-blind: the advisor cannot see the client's review yet, nor does the profile.
    assert advisor.get(f"/api/engagements/{eid}/").json()["reviews"] == []
    profile = client.get(f"/api/advisors/{advisor_info['id']}/").json()
    assert profile["rating"] == {"average": None, "count": 0}
    advisor_review = advisor.post(f"/api/engagements/{eid}/review/", {"rating": 4},
                                  format="json")
    assert advisor_review.json()["revealed"] is True
    assert len(advisor.get(f"/api/engagements/{eid}/").json()["reviews"]) == 2
    profile = client.get(f"/api/advisors/{advisor_info['id']}/").json()
    assert profile["rating"] == {"average": 5.0, "count": 1}

    events = client.get(f"/api/engagements/{eid}/events/").json()["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [e["kind"] for e in events] == [
        "proposal.submitted",
        "proposal.revised",
        "message.created",
        "message.created",
        "engagement.hired",
        "engagement.delivered",
        "engagement.revision_requested",
        "engagement.delivered",
        "engagement.approved",
        "review.posted",
        "review.posted",
    ]
    assert events[8]["data"]["automatic"] is False
    listing = client.get("/api/engagements/").json()
    assert listing[0]["id"] == eid
    assert listing[0]["last_seq"] == len(events)
