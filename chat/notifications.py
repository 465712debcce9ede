"""What a desktop notification says about a room event the user is not looking at."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

TITLES = {
    "message.created": _("New message"),
    "proposal.submitted": _("New proposal"),
    "proposal.revised": _("Proposal revised"),
    "proposal.withdrawn": _("Proposal withdrawn"),
    "proposal.declined": _("Proposal declined"),
    "engagement.hired": _("You're hired"),
    "engagement.delivered": _("Work delivered"),
    "engagement.revision_requested": _("Revision requested"),
    "engagement.approved": _("Delivery approved"),
    "engagement.rejected": _("Delivery rejected"),
    "engagement.resolved": _("Dispute resolved"),
    "file.shared": _("File shared"),
    "file.removed": _("File removed"),
    "call.proposed": _("Call proposed"),
    "call.confirmed": _("Call confirmed"),
    "call.declined": _("Call declined"),
    "call.cancelled": _("Call cancelled"),
    "review.posted": _("New review"),
}
BODY_PREVIEW = 140


def activity_notification(event: dict[str, Any], *, actor_name: str | None) -> dict[str, Any]:
    title = str(TITLES.get(event["kind"], event["kind"]))
    if event["kind"] == "message.created":
        body = event["data"].get("body", "")
        if len(body) > BODY_PREVIEW:
            body = body[: BODY_PREVIEW - 1] + "…"
        title = actor_name or title
    else:
        body = actor_name or ""
    return {
        "event": event["kind"],
        "title": title,
        "body": body,
        "room": event["room"],
        "seq": event["seq"],
        "url": f"/engagements/{event['room']}/",
    }
