"""REST access to a room's log and messages (the mobile fallback for the WebSocket).

Rooms share their id with the engagement that owns them, so these live under
``/api/engagements/{id}/`` without chat knowing what an engagement is.
"""

from __future__ import annotations

import time

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .events import serialize_event
from .serializers import (
    EventOutputSerializer,
    EventPageOutputSerializer,
    EventsQuerySerializer,
    MessageEditInputSerializer,
    MessageInputSerializer,
    ReadInputSerializer,
    ReadOutputSerializer,
)
from .tickets import issue_ticket

# How often a long-poll looks at the log again; a query this cheap every half second per
# waiting mobile client is far below what the WebSocket path costs.
LONG_POLL_INTERVAL = 0.5


class RoomEventsApi(APIView):
    @extend_schema(parameters=[EventsQuerySerializer],
                   responses={200: EventPageOutputSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        query = EventsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data["after"]
        limit = min(query.validated_data["limit"], settings.EVENTS_PAGE_MAX)
        wait = min(query.validated_data["wait"], settings.EVENTS_WAIT_MAX_SECONDS)

        room = selectors.member_room(room_id=room_id, user=request.user)
        deadline = time.monotonic() + wait
        # Fetch one extra row to know whether more follow, without a count query.
        events = selectors.events_after(room_id=room.pk, after=after, limit=limit + 1)
        while not events and time.monotonic() < deadline:
            time.sleep(LONG_POLL_INTERVAL)
            events = selectors.events_after(room_id=room.pk, after=after, limit=limit + 1)
        has_more = len(events) > limit
        events = events[:limit]
        # The room row was read before the events, so a newer event may top its head.
        head = max(room.head_seq, events[-1].seq if events else 0)
        return Response(
            {
                "events": [serialize_event(event) for event in events],
                "head": head,
                "has_more": has_more,
            }
        )


class RoomMessagesApi(APIView):
    @extend_schema(request=MessageInputSerializer, responses={201: EventOutputSerializer})
    def post(self, request: Request, room_id: int) -> Response:
        data = MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = services.send_message(room_id=room_id, sender=request.user, **data.validated_data)
        return Response(
            serialize_event(sent.event),
            status=status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK,
        )


class MessageApi(APIView):
    @extend_schema(request=MessageEditInputSerializer, responses={200: EventOutputSerializer})
    def patch(self, request: Request, message_id: int) -> Response:
        data = MessageEditInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.edit_message(message_id=message_id, by=request.user,
                                      body=data.validated_data["body"])
        return Response(serialize_event(event))

    @extend_schema(responses={200: EventOutputSerializer})
    def delete(self, request: Request, message_id: int) -> Response:
        event = services.delete_message(message_id=message_id, by=request.user)
        return Response(serialize_event(event))


class RoomReadApi(APIView):
    @extend_schema(request=ReadInputSerializer, responses={200: ReadOutputSerializer})
    def post(self, request: Request, room_id: int) -> Response:
        data = ReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seq = services.mark_read(room_id=room_id, user=request.user, **data.validated_data)
        return Response({"room": room_id, "seq": seq})


class WsTicketOutputSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField()
    url = serializers.CharField()


class WsTicketApi(APIView):
    """A one-time ticket for ``/ws/?ticket=…``, for clients without the session cookie."""

    @extend_schema(request=None, responses={201: WsTicketOutputSerializer})
    def post(self, request: Request) -> Response:
        ticket = issue_ticket(user=request.user)
        return Response(
            {"ticket": ticket, "expires_in": settings.WS_TICKET_TTL_SECONDS,
             "url": f"/ws/?ticket={ticket}"},
            status=status.HTTP_201_CREATED,
        )
