"""REST views of the deal flow: parse, call one service or selector, render. No rules here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .serializers import (
    AdvisorProfileOutputSerializer,
    DeclineInputSerializer,
    DeliverInputSerializer,
    EngagementDetailOutputSerializer,
    EngagementListQuerySerializer,
    EngagementOutputSerializer,
    HireInputSerializer,
    ProjectInputSerializer,
    ProjectListQuerySerializer,
    ProjectOutputSerializer,
    ProposalInputSerializer,
    ProposalReviseInputSerializer,
    RejectInputSerializer,
    ReviewInputSerializer,
    ReviewPostedOutputSerializer,
    RevisionInputSerializer,
)


def _parse(serializer_class: type[serializers.Serializer], data: Any, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- requests ------------------------------------------------------------------------------


class ProjectListApi(APIView):
    @extend_schema(parameters=[ProjectListQuerySerializer],
                   responses={200: ProjectOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = _parse(ProjectListQuerySerializer, request.query_params)
        projects = selectors.projects_for(
            user=request.user, skill=query.get("skill"), text=query.get("q")
        )
        return Response(ProjectOutputSerializer(projects, many=True).data)

    @extend_schema(request=ProjectInputSerializer, responses={201: ProjectOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _parse(ProjectInputSerializer, request.data)
        project = services.post_project(client=request.user, **data)
        project = selectors.project_for(project_id=project.pk, user=request.user)
        return Response(ProjectOutputSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    @extend_schema(responses={200: ProjectOutputSerializer})
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_for(project_id=project_id, user=request.user)
        return Response(ProjectOutputSerializer(project).data)

    @extend_schema(request=ProjectInputSerializer, responses={200: ProjectOutputSerializer})
    def patch(self, request: Request, project_id: int) -> Response:
        data = _parse(ProjectInputSerializer, request.data, partial=True)
        services.update_project(project_id=project_id, by=request.user, **data)
        project = selectors.project_for(project_id=project_id, user=request.user)
        return Response(ProjectOutputSerializer(project).data)


class ProjectCancelApi(APIView):
    @extend_schema(request=None, responses={200: ProjectOutputSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        services.cancel_project(project_id=project_id, by=request.user)
        project = selectors.project_for(project_id=project_id, user=request.user)
        return Response(ProjectOutputSerializer(project).data)


class ProjectProposalsApi(APIView):
    @extend_schema(responses={200: EngagementOutputSerializer(many=True)})
    def get(self, request: Request, project_id: int) -> Response:
        project = selectors.project_for(project_id=project_id, user=request.user)
        engagements = selectors.proposals_for_project(project=project, user=request.user)
        return Response(EngagementOutputSerializer(engagements, many=True).data)

    @extend_schema(request=ProposalInputSerializer, responses={201: EngagementOutputSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        data = _parse(ProposalInputSerializer, request.data)
        engagement = services.submit_proposal(project_id=project_id, advisor=request.user,
                                              **data)
        return _engagement_response(request, engagement.pk, status.HTTP_201_CREATED)


# --- engagements ---------------------------------------------------------------------------


def _engagement_response(request: Request, engagement_id: int,
                         code: int = status.HTTP_200_OK) -> Response:
    engagement = selectors.engagement_for(engagement_id=engagement_id, user=request.user)
    body = EngagementDetailOutputSerializer(engagement, context={"request": request}).data
    return Response(body, status=code)


class EngagementListApi(APIView):
    @extend_schema(parameters=[EngagementListQuerySerializer],
                   responses={200: EngagementOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        query = _parse(EngagementListQuerySerializer, request.query_params)
        engagements = selectors.engagements_for(user=request.user, state=query.get("state"))
        return Response(EngagementOutputSerializer(engagements, many=True).data)


class EngagementDetailApi(APIView):
    @extend_schema(responses={200: EngagementDetailOutputSerializer})
    def get(self, request: Request, engagement_id: int) -> Response:
        return _engagement_response(request, engagement_id)


class ProposalReviseApi(APIView):
    @extend_schema(request=ProposalReviseInputSerializer,
                   responses={200: EngagementDetailOutputSerializer})
    def patch(self, request: Request, engagement_id: int) -> Response:
        data = _parse(ProposalReviseInputSerializer, request.data)
        services.revise_proposal(engagement_id=engagement_id, by=request.user, **data)
        return _engagement_response(request, engagement_id)


def _action(
    service: Callable[..., Any],
    input_serializer: type[serializers.Serializer] | None = None,
    rename: dict[str, str] | None = None,
) -> type[APIView]:
    """A POST view for one state change: parse the body, call the service, render."""

    class ActionApi(APIView):
        @extend_schema(request=input_serializer,
                       responses={200: EngagementDetailOutputSerializer})
        def post(self, request: Request, engagement_id: int) -> Response:
            data = _parse(input_serializer, request.data) if input_serializer else {}
            for old, new in (rename or {}).items():
                data[new] = data.pop(old)
            service(engagement_id=engagement_id, by=request.user, **data)
            return _engagement_response(request, engagement_id)

    ActionApi.__name__ = f"{service.__name__.title().replace('_', '')}Api"
    ActionApi.__qualname__ = ActionApi.__name__
    return ActionApi


HireApi = _action(services.hire, HireInputSerializer)
DeclineApi = _action(services.decline_proposal, DeclineInputSerializer)
WithdrawApi = _action(services.withdraw_proposal)
DeliverApi = _action(services.deliver, DeliverInputSerializer, rename={"files": "file_ids"})
ApproveApi = _action(services.approve)
RequestRevisionApi = _action(services.request_revision, RevisionInputSerializer)
RejectApi = _action(services.reject, RejectInputSerializer)


class ReviewApi(APIView):
    @extend_schema(request=ReviewInputSerializer,
                   responses={201: ReviewPostedOutputSerializer})
    def post(self, request: Request, engagement_id: int) -> Response:
        data = _parse(ReviewInputSerializer, request.data)
        posted = services.post_review(engagement_id=engagement_id, by=request.user, **data)
        return Response(
            ReviewPostedOutputSerializer({"review": posted.review,
                                          "revealed": posted.revealed}).data,
            status=status.HTTP_201_CREATED,
        )


class AdvisorProfileApi(APIView):
    @extend_schema(responses={200: AdvisorProfileOutputSerializer})
    def get(self, request: Request, advisor_id: int) -> Response:
        profile = selectors.advisor_profile(advisor_id=advisor_id)
        return Response(AdvisorProfileOutputSerializer(profile).data)
