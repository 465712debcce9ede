"""Call reminders: pushed to each member's own sockets (``notify`` frames), never stored.

They run after the commit of the step that decided to send them.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from chat.events import notify_user

from .models import Call
from .times import describe_span, utc_iso, zone_of


def remind_call(*, call_id: int) -> int:
    """Tell both members that their call starts soon, each in their own time zone."""
    call = Call.objects.select_related("engagement__project").filter(pk=call_id).first()
    if call is None or call.start_at is None or call.end_at is None:
        return 0
    minutes = max(0, round((call.start_at - timezone.now()).total_seconds() / 60))
    people = list(User.objects.filter(pk__in=[call.proposed_by_id, call.invitee_id]))
    names = {user.pk: user.display_name for user in people}
    sent = 0
    for user in people:
        other = names.get(call.other_member_id(user.pk), "")
        notify_user(user.pk, {
            "event": "call.reminder",
            "title": f"Call in {minutes} minutes" if minutes else "Call starting now",
            "body": f"{call.engagement.project.title} with {other}: "
                    f"{describe_span(call.start_at, call.end_at, zone_of(user))}",
            "room": call.room_id,
            "url": f"/engagements/{call.room_id}/",
            "call": call.pk,
            "start": utc_iso(call.start_at),
            "end": utc_iso(call.end_at),
            "meeting_url": call.meeting_url,
        })
        sent += 1
    return sent
