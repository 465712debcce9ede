"""Hiring: one exact version, exactly one hire per request, even under concurrent attempts."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from deals.models import Engagement, Project


def test_hire_declines_every_other_pending_proposal(make_user, client_user, post_project,
                                                    propose, api_for, event_kinds):
    project = post_project(client_user)
    advisors = [make_user("advisor") for _ in range(3)]
    engagements = [propose(advisor, project["id"]) for advisor in advisors]
    withdrawn = engagements[2]
    api_for(advisors[2]).post(f"/api/engagements/{withdrawn['id']}/withdraw/")

    response = api_for(client_user).post(f"/api/engagements/{engagements[0]['id']}/hire/",
                                         {"version": 1}, format="json")
    assert response.status_code == 200

    assert event_kinds(advisors[1], engagements[1]["id"]) == ["proposal.submitted",
                                                              "proposal.declined"]
    declined = api_for(advisors[1]).get(f"/api/engagements/{engagements[1]['id']}/").json()
    assert declined["state"] == "declined"
    # The withdrawn one is left as it was: no second terminal event.
    assert event_kinds(advisors[2], withdrawn["id"]) == ["proposal.submitted",
                                                         "proposal.withdrawn"]
    assert Project.objects.get(pk=project["id"]).state == "hired"
    # A hire on the now-declined proposal names its state.
    again = api_for(client_user).post(f"/api/engagements/{engagements[1]['id']}/hire/",
                                      {"version": 1}, format="json")
    assert again.status_code == 409
    assert again.json()["state"] == "declined"


def test_hire_after_revision_needs_the_new_version(client_user, advisor_user, engagement,
                                                   api_for):
    eid = engagement["id"]
    api_for(advisor_user).patch(f"/api/engagements/{eid}/proposal/", {"estimated_days": 5},
                                format="json")
    stale = api_for(client_user).post(f"/api/engagements/{eid}/hire/", {"version": 1},
                                      format="json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_outdated"
    assert stale.json()["current_version"] == 2
    assert Engagement.objects.get(pk=eid).state == "proposed"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_hires_make_exactly_one(postgres, make_user, post_project, propose,
                                                  api_for):
    client = make_user("client")
    project = post_project(client)
    advisors = [make_user("advisor") for _ in range(10)]
    engagement_ids = [propose(advisor, project["id"])["id"] for advisor in advisors]
    # Twenty attempts: every proposal once, and the first five twice more.
    targets = engagement_ids + engagement_ids[:5] + engagement_ids[:5]
    assert len(targets) == 20

    barrier = threading.Barrier(len(targets))
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(engagement_id: int) -> None:
        api = api_for(client)
        try:
            barrier.wait(timeout=30)
            response = api.post(f"/api/engagements/{engagement_id}/hire/", {"version": 1},
                                format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(eid,)) for eid in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [409] * 19
    states = list(Engagement.objects.filter(project_id=project["id"])
                  .values_list("state", flat=True))
    assert sorted(states) == ["active"] + ["declined"] * 9
    assert Project.objects.get(pk=project["id"]).state == "hired"
    # Every declined room says so exactly once; the hired room has one hire.
    for engagement in Engagement.objects.filter(project_id=project["id"]):
        kinds = list(engagement.room.events.values_list("kind", flat=True))
        if engagement.state == "active":
            assert kinds == ["proposal.submitted", "engagement.hired"]
        else:
            assert kinds == ["proposal.submitted", "proposal.declined"]
