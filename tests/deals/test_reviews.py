"""Reviews: once per side, after completion, double-blind until both are in or 14 days."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone


def _complete(client_user, advisor_user, engagement, api_for) -> int:
    eid = engagement["id"]
    api_for(client_user).post(f"/api/engagements/{eid}/hire/", {"version": 1}, format="json")
    api_for(advisor_user).post(f"/api/engagements/{eid}/deliver/", {"note": "n"},
                               format="json")
    response = api_for(client_user).post(f"/api/engagements/{eid}/approve/")
    assert response.json()["state"] == "completed"
    return eid


def test_review_only_after_completion(client_user, engagement, api_for):
    response = api_for(client_user).post(f"/api/engagements/{engagement['id']}/review/",
                                         {"rating": 5}, format="json")
    assert response.status_code == 409
    assert response.json()["state"] == "proposed"


def test_one_review_per_side(client_user, advisor_user, engagement, api_for):
    eid = _complete(client_user, advisor_user, engagement, api_for)
    api = api_for(client_user)
    assert api.post(f"/api/engagements/{eid}/review/", {"rating": 3},
                    format="json").status_code == 201
    again = api.post(f"/api/engagements/{eid}/review/", {"rating": 5}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "review_exists"
    mine = api.get(f"/api/engagements/{eid}/").json()["reviews"]
    assert [r["rating"] for r in mine] == [3]


def test_blind_until_fourteen_days_pass(client_user, advisor_user, engagement, api_for):
    eid = _complete(client_user, advisor_user, engagement, api_for)
    api_for(client_user).post(f"/api/engagements/{eid}/review/",
                              {"rating": 2, "comment": "Late"}, format="json")
    profile_url = f"/api/advisors/{advisor_user.pk}/"
    assert api_for(advisor_user).get(f"/api/engagements/{eid}/").json()["reviews"] == []
    assert api_for(client_user).get(profile_url).json()["rating"]["count"] == 0

    later = timezone.now() + settings.REVIEW_BLIND_PERIOD + timedelta(minutes=1)
    with time_machine.travel(later):
        reviews = api_for(advisor_user).get(f"/api/engagements/{eid}/").json()["reviews"]
        assert [(r["rating"], r["comment"]) for r in reviews] == [(2, "Late")]
        profile = api_for(client_user).get(profile_url).json()
        assert profile["rating"] == {"average": 2.0, "count": 1}
        assert profile["reviews"][0]["comment"] == "Late"


def test_profile_averages_revealed_reviews(make_user, client_user, advisor_user, post_project,
                                           propose, api_for):
    for rating in (5, 4):
        other_client = make_user("client")
        project = post_project(other_client)
        engagement = propose(advisor_user, project["id"])
        eid = _complete(other_client, advisor_user, engagement, api_for)
        api_for(other_client).post(f"/api/engagements/{eid}/review/", {"rating": rating},
                                   format="json")
        api_for(advisor_user).post(f"/api/engagements/{eid}/review/", {"rating": 5},
                                   format="json")
    profile = api_for(client_user).get(f"/api/advisors/{advisor_user.pk}/").json()
    assert profile["rating"] == {"average": 4.5, "count": 2}
    assert profile["skills"] == ["finance", "strategy"]
    # Clients have no advisor profile.
    assert api_for(advisor_user).get(f"/api/advisors/{client_user.pk}/").status_code == 404
    assert api_for(None).get(f"/api/advisors/{advisor_user.pk}/").status_code == 401
