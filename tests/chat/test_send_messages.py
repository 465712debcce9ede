"""``chat.services.send_messages``: many messages, any rooms, one transaction; each
draft answered as ``send_message`` would have answered it alone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat import services
from chat.models import Event, Message, Room
from config.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
def rooms(make_user):
    client, advisor, stranger = make_user("client"), make_user("advisor"), make_user("client")
    made = [services.create_room(members=[client, advisor]) for _ in range(3)]
    return client, advisor, stranger, made


def draft(room: Room, sender, body: str = "hello", client_id: str | None = None):
    draft.counter = getattr(draft, "counter", 0) + 1
    return services.MessageDraft(room_id=room.pk, sender=sender, body=body,
                                 client_id=f"c-{draft.counter}" if client_id is None else client_id)


def logged(room: Room) -> list[tuple[int, str]]:
    return [(e.seq, e.data["body"]) for e in Event.objects.filter(room=room).order_by("seq")]


@pytest.mark.django_db(transaction=True)
def test_a_batch_gives_each_room_consecutive_seqs_in_the_order_sent(rooms):
    client, advisor, _, (a, b, c) = rooms
    results = services.send_messages([
        draft(a, client, "a1"), draft(b, advisor, "b1"), draft(a, advisor, "a2"),
        draft(c, client, "c1"), draft(a, client, "a3"),
    ])
    assert [r.event.seq for r in results] == [1, 1, 2, 1, 3]
    assert all(r.created for r in results)
    assert logged(a) == [(1, "a1"), (2, "a2"), (3, "a3")]
    assert logged(b) == [(1, "b1")] and logged(c) == [(1, "c1")]
    assert [room.head_seq for room in Room.objects.order_by("pk")] == [3, 1, 1]
    # The event points at its message and carries the client_id.
    first = results[0]
    assert first.event.data == {"message_id": first.message.pk,
                                "client_id": first.message.client_id, "body": "a1"}


@pytest.mark.django_db(transaction=True)
def test_the_number_of_queries_does_not_grow_with_the_batch(rooms):
    client, advisor, _, (a, b, c) = rooms

    def queries(size: int) -> int:
        batch = [draft((a, b, c)[i % 3], (client, advisor)[i % 2]) for i in range(size)]
        with CaptureQueriesContext(connection) as captured:
            services.send_messages(batch)
        return len(captured.captured_queries)

    assert queries(3) == queries(60)


@pytest.mark.django_db(transaction=True)
def test_bad_drafts_get_their_own_error_and_store_nothing_while_the_rest_go_through(rooms):
    client, advisor, stranger, (a, b, c) = rooms
    services.close_room(room=c)
    results = services.send_messages([
        draft(a, client, "fine"),
        draft(a, stranger, "not a member"),
        draft(c, client, "closed room"),
        draft(b, client, "   "),
        draft(b, client, "x", client_id=""),
        draft(b, advisor, "y" * 10_001),
        services.MessageDraft(room_id=999_999, sender=client, body="no room", client_id="z"),
        draft(b, advisor, "also fine"),
    ])
    ok, stranger_r, closed, blank, no_id, too_long, missing, ok2 = results
    assert ok.event.seq == 1 and ok2.event.seq == 1
    assert isinstance(stranger_r, NotFound) and stranger_r.code == "room_not_found"
    assert isinstance(missing, NotFound) and missing.code == "room_not_found"
    assert isinstance(closed, Conflict) and closed.code == "room_closed"
    assert isinstance(blank, InvalidInput) and blank.code == "message_empty"
    assert isinstance(no_id, InvalidInput) and no_id.code == "invalid_client_id"
    assert isinstance(too_long, InvalidInput) and too_long.code == "message_too_long"
    assert sorted(Message.objects.values_list("body", flat=True)) == ["also fine", "fine"]
    assert Event.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_retry_answers_with_the_original_in_a_later_batch_and_in_the_same_one(rooms):
    client, advisor, _, (a, b, _) = rooms
    (first,) = services.send_messages([draft(a, client, "once", client_id="same")])
    later = services.send_messages([
        draft(a, client, "once again", client_id="same"),   # a retry
        draft(b, advisor, "twice", client_id="dup"),
        draft(b, advisor, "twice", client_id="dup"),        # the same draft twice
        draft(b, client, "not a retry", client_id="dup"),   # another sender's id
    ])
    retry, dup1, dup2, other = later
    assert retry.created is False and retry.event.seq == first.event.seq == 1
    assert retry.message.pk == first.message.pk and retry.message.body == "once"
    assert dup1.created and not dup2.created and dup2.event.seq == dup1.event.seq
    assert other.created and other.event.seq == dup1.event.seq + 1
    assert logged(a) == [(1, "once")]
    assert logged(b) == [(1, "twice"), (2, "not a retry")]


@pytest.mark.django_db(transaction=True)
def test_send_message_raises_what_the_batch_would_answer(rooms):
    client, _, stranger, (a, _, _) = rooms
    with pytest.raises(NotFound):
        services.send_message(room_id=a.pk, sender=stranger, body="hi", client_id="s1")
    sent = services.send_message(room_id=a.pk, sender=client, body="hi", client_id="s1")
    assert sent.created and sent.event.seq == 1
