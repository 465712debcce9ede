"""REST views of calls: parse, call one service or selector, render. No rules here.

Every call rendered carries its times in UTC and in the requesting user's own time zone.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import ics, selectors, services
from .models import CalendarFeed, Call
from .serializers import (
    CalendarFeedOutputSerializer,
    CallAcceptInputSerializer,
    CallCloseInputSerializer,
    CallListQuerySerializer,
    CallOutputSerializer,
    CallProposeInputSerializer,
    CallRescheduleInputSerializer,
    UpcomingQuerySerializer,
)
from .times import zone_of

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _parse(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _context(request: Request) -> dict[str, Any]:
    return {"request": request, "viewer": request.user, "zone": zone_of(request.user)}


def _call_response(request: Request, call_id: int, code: int = status.HTTP_200_OK) -> Response:
    call = selectors.call_for(call_id=call_id, user=request.user)
    return Response(CallOutputSerializer(call, context=_context(request)).data, status=code)


def _room_url(request: HttpRequest, call: Call) -> str:
    return request.build_absolute_uri(f"/engagements/{call.engagement_id}/")


class EngagementCallsApi(APIView):
    @extend_schema(parameters=[CallListQuerySerializer],
                   responses={200: CallOutputSerializer(many=True)})
    def get(self, request: Request, engagement_id: int) -> Response:
        query = _parse(CallListQuerySerializer, request.query_params)
        calls = selectors.calls_of_engagement(engagement_id=engagement_id, user=request.user,
                                              state=query.get("state"))
        return Response(CallOutputSerializer(calls, many=True, context=_context(request)).data)

    @extend_schema(request=CallProposeInputSerializer, responses={201: CallOutputSerializer})
    def post(self, request: Request, engagement_id: int) -> Response:
        data = _parse(CallProposeInputSerializer, request.data)
        call = services.propose_call(engagement_id=engagement_id, by=request.user, **data)
        return _call_response(request, call.pk, status.HTTP_201_CREATED)


class UpcomingCallsApi(APIView):
    @extend_schema(parameters=[UpcomingQuerySerializer],
                   responses={200: CallOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = _parse(UpcomingQuerySerializer, request.query_params)
        calls = selectors.upcoming_calls(user=request.user, limit=query["limit"])
        return Response(CallOutputSerializer(calls, many=True, context=_context(request)).data)


class CallDetailApi(APIView):
    @extend_schema(responses={200: CallOutputSerializer})
    def get(self, request: Request, call_id: int) -> Response:
        return _call_response(request, call_id)


class CallAcceptApi(APIView):
    @extend_schema(request=CallAcceptInputSerializer, responses={200: CallOutputSerializer})
    def post(self, request: Request, call_id: int) -> Response:
        data = _parse(CallAcceptInputSerializer, request.data)
        services.accept_call(call_id=call_id, by=request.user, slot=data["slot"])
        return _call_response(request, call_id)


class CallDeclineApi(APIView):
    @extend_schema(request=CallCloseInputSerializer, responses={200: CallOutputSerializer})
    def post(self, request: Request, call_id: int) -> Response:
        data = _parse(CallCloseInputSerializer, request.data)
        services.decline_call(call_id=call_id, by=request.user, **data)
        return _call_response(request, call_id)


class CallCancelApi(APIView):
    @extend_schema(request=CallCloseInputSerializer, responses={200: CallOutputSerializer})
    def post(self, request: Request, call_id: int) -> Response:
        data = _parse(CallCloseInputSerializer, request.data)
        services.cancel_call(call_id=call_id, by=request.user, **data)
        return _call_response(request, call_id)


class CallRescheduleApi(APIView):
    @extend_schema(request=CallRescheduleInputSerializer,
                   responses={201: CallOutputSerializer},
                   description="Cancels this call and proposes a new one that replaces it; "
                   "the new call is returned.")
    def post(self, request: Request, call_id: int) -> Response:
        data = _parse(CallRescheduleInputSerializer, request.data)
        new = services.reschedule_call(call_id=call_id, by=request.user, **data)
        return _call_response(request, new.pk, status.HTTP_201_CREATED)


class CallIcsApi(APIView):
    @extend_schema(responses={(200, "text/calendar"): OpenApiResponse(
        response=OpenApiTypes.STR, description="The call as an iCalendar file, in UTC.")})
    def get(self, request: Request, call_id: int) -> HttpResponse:
        call = selectors.scheduled_call_for(call_id=call_id, user=request.user)
        body = ics.call_ics(call, viewer=request.user, room_url=_room_url(request, call))
        response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="call-{call.pk}.ics"'
        return response


# --- the private calendar feed ---------------------------------------------------------------


def _feed_body(request: Request, feed: CalendarFeed) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": feed.token}))
    return CalendarFeedOutputSerializer({"url": url, "created_at": feed.created_at}).data


class MyCalendarApi(APIView):
    @extend_schema(request=None, responses={200: CalendarFeedOutputSerializer},
                   description="Your private calendar feed URL (created on first use), to "
                   "subscribe to from Google, Apple or Outlook calendar.")
    def get(self, request: Request) -> Response:
        return Response(_feed_body(request, services.get_or_create_feed(user=request.user)))

    @extend_schema(request=None, responses={204: None},
                   description="Revoke the feed URL; a later GET issues a new one.")
    def delete(self, request: Request) -> Response:
        services.revoke_feed(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyCalendarRotateApi(APIView):
    @extend_schema(request=None, responses={200: CalendarFeedOutputSerializer},
                   description="Revoke the current feed URL and issue a new one.")
    def post(self, request: Request) -> Response:
        return Response(_feed_body(request, services.rotate_feed(user=request.user)))


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no session or token header (calendar apps send none); the
    unguessable URL is the credential. Unknown and revoked tokens are a plain 404."""
    feed = selectors.feed_by_token(token=token)
    if feed is None:
        raise Http404("No such calendar.")
    user = feed.user
    calls = selectors.feed_calls(user=user, now=timezone.now())
    body = ics.feed_ics(calls, viewer=user, room_url=lambda call: _room_url(request, call),
                        name="Engagement calls")
    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="calls.ics"'
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
