"""Reject opens a dispute; staff settle it in the admin through the same service."""

from __future__ import annotations

import pytest

from accounts.models import User
from deals.models import Engagement


@pytest.fixture
def disputed(client_user, advisor_user, engagement, api_for) -> int:
    eid = engagement["id"]
    api_for(client_user).post(f"/api/engagements/{eid}/hire/", {"version": 1}, format="json")
    api_for(advisor_user).post(f"/api/engagements/{eid}/deliver/", {"note": "n"},
                               format="json")
    response = api_for(client_user).post(f"/api/engagements/{eid}/reject/",
                                         {"reason": "Not what we agreed"}, format="json")
    assert response.json()["state"] == "disputed"
    return eid


@pytest.fixture
def staff_client(client):
    staff = User.objects.create_superuser("staff", "staff@example.com", "pw-staff-12345")
    client.force_login(staff)
    return client


@pytest.mark.parametrize("outcome", ["completed", "cancelled"])
def test_staff_resolve_a_dispute_in_the_admin(disputed, staff_client, client_user, api_for,
                                              event_kinds, outcome):
    response = staff_client.post("/admin/deals/engagement/", {
        "action": f"resolve_{outcome}", "_selected_action": [disputed]})
    assert response.status_code == 302
    assert Engagement.objects.get(pk=disputed).state == outcome
    events = api_for(client_user).get(f"/api/engagements/{disputed}/events/").json()["events"]
    assert events[-1]["kind"] == "engagement.resolved"
    assert events[-1]["data"]["outcome"] == outcome
    assert event_kinds(client_user, disputed)[-2] == "engagement.rejected"
    assert events[-2]["data"]["reason"] == "Not what we agreed"


def test_resolving_something_not_disputed_changes_nothing(engagement, staff_client,
                                                          client_user, event_kinds):
    before = event_kinds(client_user, engagement["id"])
    response = staff_client.post("/admin/deals/engagement/", {
        "action": "resolve_completed", "_selected_action": [engagement["id"]]}, follow=True)
    assert "Cannot resolve an engagement that is proposed" in response.content.decode()
    assert Engagement.objects.get(pk=engagement["id"]).state == "proposed"
    assert event_kinds(client_user, engagement["id"]) == before


def test_a_disputed_engagement_takes_no_further_client_action(disputed, client_user, api_for):
    for action in ("approve", "reject", "request-revision"):
        response = api_for(client_user).post(f"/api/engagements/{disputed}/{action}/",
                                             {"reason": "x", "note": "x"}, format="json")
        assert response.status_code == 409
        assert response.json()["state"] == "disputed"
