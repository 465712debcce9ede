"""The 72-hour review window: reminder, automatic approval, the sweep, idempotency."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from deals import tasks
from deals.models import Engagement


def _deliver(client_user, advisor_user, engagement, api_for) -> int:
    eid = engagement["id"]
    api_for(client_user).post(f"/api/engagements/{eid}/hire/", {"version": 1}, format="json")
    response = api_for(advisor_user).post(f"/api/engagements/{eid}/deliver/",
                                          {"note": "Here it is"}, format="json")
    assert response.status_code == 200
    return eid


def _approvals(eid: int) -> list[dict]:
    return [e.data for e in Engagement.objects.get(pk=eid).room.events.filter(
        kind="engagement.approved")]


def test_delivery_schedules_reminder_and_approval(client_user, advisor_user, engagement,
                                                  api_for):
    eid = _deliver(client_user, advisor_user, engagement, api_for)
    deadline = Engagement.objects.get(pk=eid).review_deadline
    assert deadline - timezone.now() > settings.REVIEW_WINDOW - timedelta(minutes=1)
    schedules = {s.func: s for s in Schedule.objects.filter(name__contains=f"-{eid}-")}
    assert schedules["deals.tasks.auto_approve_task"].next_run == deadline
    assert schedules["deals.tasks.review_reminder_task"].next_run == (
        deadline - settings.REVIEW_REMINDER_BEFORE)
    assert schedules["deals.tasks.auto_approve_task"].schedule_type == Schedule.ONCE


def test_task_approves_once_at_the_deadline(client_user, advisor_user, engagement, api_for,
                                            event_kinds):
    eid = _deliver(client_user, advisor_user, engagement, api_for)
    deadline = Engagement.objects.get(pk=eid).review_deadline

    # Early: the task refuses to act.
    with time_machine.travel(deadline - timedelta(seconds=1)):
        assert tasks.auto_approve_task(eid) is False
    assert Engagement.objects.get(pk=eid).state == "delivered"

    with time_machine.travel(deadline + timedelta(seconds=1)):
        assert tasks.auto_approve_task(eid) is True
        # Twice, and the sweep after it: nothing more happens.
        assert tasks.auto_approve_task(eid) is False
        assert tasks.sweep_review_deadlines() == {"approved": 0, "reminded": 0}

    assert Engagement.objects.get(pk=eid).state == "completed"
    approvals = _approvals(eid)
    assert len(approvals) == 1
    assert approvals[0]["automatic"] is True
    assert event_kinds(client_user, eid)[-1] == "engagement.approved"
    # After automatic approval the client can still review.
    review = api_for(client_user).post(f"/api/engagements/{eid}/review/", {"rating": 4},
                                       format="json")
    assert review.status_code == 201


def test_sweep_catches_a_deadline_whose_task_was_lost(client_user, advisor_user, engagement,
                                                      api_for):
    eid = _deliver(client_user, advisor_user, engagement, api_for)
    Schedule.objects.filter(name__contains=f"-{eid}-").delete()  # the worker lost them
    deadline = Engagement.objects.get(pk=eid).review_deadline
    with time_machine.travel(deadline + timedelta(hours=5)):  # the worker was down
        assert tasks.sweep_review_deadlines() == {"approved": 1, "reminded": 0}
        assert tasks.sweep_review_deadlines() == {"approved": 0, "reminded": 0}
        assert tasks.auto_approve_task(eid) is False
    assert len(_approvals(eid)) == 1


def test_answered_delivery_is_not_approved_by_a_stale_task(client_user, advisor_user,
                                                           engagement, api_for):
    eid = _deliver(client_user, advisor_user, engagement, api_for)
    deadline = Engagement.objects.get(pk=eid).review_deadline
    api_for(client_user).post(f"/api/engagements/{eid}/request-revision/", {"note": "More"},
                              format="json")
    with time_machine.travel(deadline + timedelta(seconds=1)):
        assert tasks.auto_approve_task(eid) is False
        assert tasks.sweep_review_deadlines()["approved"] == 0
    assert Engagement.objects.get(pk=eid).state == "active"
    assert _approvals(eid) == []


def test_reminder_goes_once_24_hours_before(client_user, advisor_user, engagement, api_for):
    eid = _deliver(client_user, advisor_user, engagement, api_for)
    deadline = Engagement.objects.get(pk=eid).review_deadline
    remind_at = deadline - settings.REVIEW_REMINDER_BEFORE
    with time_machine.travel(remind_at - timedelta(minutes=1)):
        assert tasks.review_reminder_task(eid) is False
    with time_machine.travel(remind_at + timedelta(seconds=1)):
        assert tasks.review_reminder_task(eid) is True
        assert tasks.review_reminder_task(eid) is False
        assert tasks.sweep_review_deadlines() == {"approved": 0, "reminded": 0}
    assert Engagement.objects.get(pk=eid).reminder_sent_at is not None


def test_sweep_sends_a_missed_reminder(client_user, advisor_user, engagement, api_for):
    eid = _deliver(client_user, advisor_user, engagement, api_for)
    Schedule.objects.filter(name__contains=f"-{eid}-").delete()
    deadline = Engagement.objects.get(pk=eid).review_deadline
    with time_machine.travel(deadline - timedelta(hours=2)):
        assert tasks.sweep_review_deadlines() == {"approved": 0, "reminded": 1}
        assert tasks.sweep_review_deadlines() == {"approved": 0, "reminded": 0}
