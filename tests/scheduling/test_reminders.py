"""Reminders: one `notify` to each member CALL_REMINDER_BEFORE the call, exactly once,
never for a cancelled or moved call; the sweep catches lost timers and dead rooms."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from scheduling import notifications, tasks
from scheduling.models import Call

from .helpers import in_hours, slot


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, dict]]:
    """Notifications pushed to users' sockets, captured instead of sent."""
    pushed: list[tuple[int, dict]] = []
    monkeypatch.setattr(notifications, "notify_user",
                        lambda user_id, notification: pushed.append((user_id, notification)))
    return pushed


def _timer(call_id: int) -> Schedule:
    return Schedule.objects.get(name__startswith=f"call-reminder-{call_id}-")


def _run(schedule: Schedule) -> bool:
    """Run a one-off schedule's task the way django-q2's scheduler does (literal args)."""
    assert schedule.func == "scheduling.tasks.call_reminder_task"
    return tasks.call_reminder_task(*ast.literal_eval(schedule.args))


def test_confirmation_sets_a_one_off_timer_15_minutes_before(confirmed_call):
    call = confirmed_call()
    timer = _timer(call["id"])
    start = datetime.fromisoformat(call["start"])
    assert timedelta(minutes=15) == settings.CALL_REMINDER_BEFORE
    assert timer.next_run == start - timedelta(minutes=15)
    assert timer.schedule_type == Schedule.ONCE
    assert timer.repeats == -1


def test_the_lead_time_is_a_setting(settings, confirmed_call):
    settings.CALL_REMINDER_BEFORE = timedelta(hours=1)
    call = confirmed_call()
    assert _timer(call["id"]).next_run == datetime.fromisoformat(call["start"]) - timedelta(
        hours=1)


def test_a_call_confirmed_inside_the_window_is_reminded_right_away(confirmed_call):
    call = confirmed_call(hours=0.1)  # 6 minutes ahead
    assert abs(_timer(call["id"]).next_run - timezone.now()) < timedelta(seconds=30)


def test_the_reminder_fires_once_at_the_right_time(client_user, advisor_user, engagement,
                                                   confirmed_call, sent,
                                                   django_capture_on_commit_callbacks):
    call = confirmed_call()
    timer = _timer(call["id"])
    start = datetime.fromisoformat(call["start"])

    with time_machine.travel(timer.next_run - timedelta(seconds=1)):
        assert _run(timer) is False
        assert tasks.sweep_calls() == {"reminded": 0, "cancelled": 0}
    assert sent == []

    with time_machine.travel(timer.next_run + timedelta(seconds=1)), \
            django_capture_on_commit_callbacks(execute=True):
        assert _run(timer) is True
        # A duplicate run and the sweep after it send nothing more.
        assert _run(timer) is False
        assert tasks.sweep_calls() == {"reminded": 0, "cancelled": 0}

    assert sorted(user_id for user_id, _ in sent) == sorted([client_user.pk, advisor_user.pk])
    by_user = dict(sent)
    notification = by_user[client_user.pk]
    assert notification["event"] == "call.reminder"
    assert notification["title"] == "Call in 15 minutes"
    assert notification["room"] == engagement["id"]
    assert notification["url"] == f"/engagements/{engagement['id']}/"
    assert notification["call"] == call["id"]
    assert notification["start"] == call["start"]
    assert "Ada Advisor" in notification["body"]
    assert "Carla Client" in by_user[advisor_user.pk]["body"]
    assert Call.objects.get(pk=call["id"]).reminder_sent_at is not None
    assert start > timer.next_run


def test_no_reminder_for_a_cancelled_call(client_user, api_for, confirmed_call, sent,
                                          django_capture_on_commit_callbacks):
    call = confirmed_call()
    timer = _timer(call["id"])
    api_for(client_user).post(f"/api/calls/{call['id']}/cancel/")
    assert not Schedule.objects.filter(pk=timer.pk).exists()  # the timer is removed…
    start = datetime.fromisoformat(call["start"])
    with time_machine.travel(start - timedelta(minutes=10)), \
            django_capture_on_commit_callbacks(execute=True):
        assert _run(timer) is False  # …and a copy that ran anyway sends nothing
        assert tasks.sweep_calls() == {"reminded": 0, "cancelled": 0}
    assert sent == []


def test_a_moved_call_is_reminded_at_its_new_time_only(client_user, advisor_user, api_for,
                                                       confirmed_call, accept_call, sent,
                                                       django_capture_on_commit_callbacks):
    old = confirmed_call(hours=24)
    old_timer = _timer(old["id"])
    moved = api_for(advisor_user).post(f"/api/calls/{old['id']}/reschedule/",
                                       {"slots": [slot(in_hours(48))]}, format="json").json()
    accept_call(client_user, moved["id"])
    new_timer = _timer(moved["id"])
    assert new_timer.next_run == datetime.fromisoformat(moved["slots"][0]["start"]) - timedelta(
        minutes=15)

    with time_machine.travel(old_timer.next_run + timedelta(seconds=1)), \
            django_capture_on_commit_callbacks(execute=True):
        assert _run(old_timer) is False
        assert tasks.sweep_calls()["reminded"] == 0
    assert sent == []
    with time_machine.travel(new_timer.next_run + timedelta(seconds=1)), \
            django_capture_on_commit_callbacks(execute=True):
        assert _run(new_timer) is True
    assert {n["call"] for _, n in sent} == {moved["id"]}


def test_a_timer_for_another_start_sends_nothing(confirmed_call):
    call = confirmed_call()
    start = datetime.fromisoformat(call["start"])
    with time_machine.travel(start - timedelta(minutes=5)):
        assert tasks.call_reminder_task(call["id"], (start + timedelta(hours=1)).isoformat()) \
            is False
        assert tasks.call_reminder_task(call["id"], start.isoformat()) is True


def test_no_reminder_once_the_call_has_started(confirmed_call):
    call = confirmed_call()
    with time_machine.travel(datetime.fromisoformat(call["start"]) + timedelta(minutes=1)):
        assert _run(_timer(call["id"])) is False
        assert tasks.sweep_calls()["reminded"] == 0


def test_the_sweep_sends_a_reminder_whose_timer_was_lost(confirmed_call, sent,
                                                         django_capture_on_commit_callbacks):
    call = confirmed_call()
    Schedule.objects.filter(name__startswith="call-reminder-").delete()  # the worker lost it
    start = datetime.fromisoformat(call["start"])
    with time_machine.travel(start - timedelta(minutes=16)):
        assert tasks.sweep_calls()["reminded"] == 0  # not yet
    with time_machine.travel(start - timedelta(minutes=9)), \
            django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_calls() == {"reminded": 1, "cancelled": 0}
        assert tasks.sweep_calls() == {"reminded": 0, "cancelled": 0}
    assert len(sent) == 2
    assert sent[0][1]["title"] == "Call in 9 minutes"


def test_the_sweep_is_installed_by_a_migration(db):
    sweep = Schedule.objects.get(name="sweep-calls")
    assert sweep.func == "scheduling.tasks.sweep_calls"
    assert sweep.schedule_type == Schedule.MINUTES and sweep.minutes == 1


def test_calls_in_a_room_that_closed_are_cancelled_and_never_reminded(
        client_user, advisor_user, engagement, api_for, propose_call, confirmed_call,
        event_kinds, sent, django_capture_on_commit_callbacks):
    eid = engagement["id"]
    confirmed = confirmed_call()
    pending = propose_call(client_user, eid, [slot(in_hours(40))])
    api_for(advisor_user).post(f"/api/engagements/{eid}/withdraw/")
    start = datetime.fromisoformat(confirmed["start"])
    with time_machine.travel(start - timedelta(minutes=10)), \
            django_capture_on_commit_callbacks(execute=True):
        assert _run(_timer(confirmed["id"])) is False
        assert tasks.sweep_calls() == {"reminded": 0, "cancelled": 2}
        assert tasks.sweep_calls() == {"reminded": 0, "cancelled": 0}
    assert sent == []
    assert set(Call.objects.filter(pk__in=[confirmed["id"], pending["id"]])
               .values_list("state", flat=True)) == {"cancelled"}
    assert event_kinds(client_user, eid)[-2:] == ["call.cancelled", "call.cancelled"]
    last = api_for(client_user).get(f"/api/engagements/{eid}/events/?limit=1000").json()
    automatic = [e for e in last["events"] if e["kind"] == "call.cancelled"]
    assert all(e["actor"] is None and e["data"]["automatic"] for e in automatic)
    assert {e["data"]["reason"] for e in automatic} == {"room_closed"}
