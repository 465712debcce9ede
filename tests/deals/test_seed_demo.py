"""The demo data: every engagement state, gapless room logs, and a second run is a no-op."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from chat.models import Event, Message, Room
from deals.models import Delivery, Engagement, Project, ProposalVersion, Review


def _counts() -> dict[str, int]:
    models = (User, Project, Engagement, ProposalVersion, Delivery, Review, Room, Event, Message)
    return {model.__name__: model.objects.count() for model in models}


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_loads_every_state_and_is_idempotent():
    first = _seed()
    assert "demo-pass-2026" in first
    for username in ("admin", "lucia", "marcus", "sofia", "javier", "dana"):
        assert username in first

    states = set(Engagement.objects.values_list("state", flat=True))
    assert states >= set(Engagement.State.values)

    # Every room's log is 1..N without gaps, and the head agrees.
    rooms = Room.objects.all()
    assert rooms.count() == Engagement.objects.count()
    for room in rooms:
        seqs = list(room.events.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1)), room
        assert room.head_seq == len(seqs)
        assert room.events.order_by("seq").first().kind == "proposal.submitted"

    # A proposal revised to version 2, still pending, with messages both ways.
    revised = Engagement.objects.get(state="proposed", current_proposal__version=2)
    senders = set(Message.objects.filter(room_id=revised.pk).values_list("sender", flat=True))
    assert senders == {revised.client_id, revised.advisor_id}
    # The delivery under review has its deadline; the completed one has both reviews.
    assert Engagement.objects.get(state="delivered").review_deadline is not None
    assert Review.objects.filter(engagement__state="completed").count() == 2
    assert Project.objects.filter(state="open").count() >= 3
    assert Project.objects.filter(state="cancelled").exists()
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    for user in User.objects.exclude(username="admin"):
        assert user.check_password("demo-pass-2026")

    before = _counts()
    second = _seed()
    assert _counts() == before
    assert "nothing changed" in second
    assert "lucia" in second and "demo-pass-2026" in second
