"""REST views of the files domain: parse, call one service or selector, render.

Rooms share their id with the engagement that owns them, so uploads live under
``/api/engagements/{id}/files/`` without files knowing what an engagement is.
"""

from __future__ import annotations

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import Gone, InvalidInput

from . import downloads, error_codes, selectors, services
from .serializers import (
    RoomFileOutputSerializer,
    SharedFileOutputSerializer,
    UploadInputSerializer,
)
from .uploads import FIELD, StreamingUploadHandler


class RoomFilesApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def initialize_request(self, request: HttpRequest, *args, **kwargs) -> Request:
        # Installed before authentication: the CSRF check of session auth reads the form,
        # and with it the file, so the size limit must already be in force then.
        self.upload_handler = StreamingUploadHandler(request,
                                                     max_bytes=settings.FILES_MAX_BYTES)
        request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses={200: RoomFileOutputSerializer(many=True)})
    def get(self, request: Request, room_id: int) -> Response:
        files = selectors.room_files(room_id=room_id, user=request.user)
        return Response(RoomFileOutputSerializer(files, many=True).data)

    @extend_schema(
        request={"multipart/form-data": UploadInputSerializer},
        responses={201: SharedFileOutputSerializer,
                   413: OpenApiResponse(description="file_too_large")},
    )
    def post(self, request: Request, room_id: int) -> Response:
        # Strangers, closed and full rooms are refused before the body is parsed (with
        # token auth; session auth's CSRF check has parsed it already, within the limit).
        services.ensure_can_share(room_id=room_id, by=request.user)
        upload = request.FILES.get(FIELD)
        if self.upload_handler.error is not None:
            raise self.upload_handler.error
        if upload is None:
            raise InvalidInput(f"Attach the file in the '{FIELD}' field (multipart/form-data).",
                               code=error_codes.FILE_MISSING,
                               fields={FIELD: ["No file was submitted."]})
        shared = services.share_file(room_id=room_id, by=request.user, upload=upload)
        return Response(SharedFileOutputSerializer(shared).data,
                        status=status.HTTP_201_CREATED)


class FileApi(APIView):
    @extend_schema(responses={200: SharedFileOutputSerializer})
    def get(self, request: Request, file_id: int) -> Response:
        shared = selectors.file_for(file_id=file_id, user=request.user)
        return Response(SharedFileOutputSerializer(shared).data)

    @extend_schema(responses={200: SharedFileOutputSerializer})
    def delete(self, request: Request, file_id: int) -> Response:
        services.remove_file(file_id=file_id, by=request.user)
        shared = selectors.file_for(file_id=file_id, user=request.user)
        return Response(SharedFileOutputSerializer(shared).data)


class AnyAcceptNegotiation(DefaultContentNegotiation):
    """A download answers with the file's own type whatever Accept says; only errors are
    rendered, as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class FileDownloadApi(APIView):
    content_negotiation_class = AnyAcceptNegotiation

    @extend_schema(responses={(200, "application/octet-stream"): bytes,
                              (206, "application/octet-stream"): bytes})
    def get(self, request: Request, file_id: int) -> HttpResponseBase:
        shared = selectors.file_for(file_id=file_id, user=request.user)
        if shared.is_removed:
            raise Gone("The file was removed; its bytes are gone.",
                       code=error_codes.FILE_REMOVED)
        return downloads.file_response(
            shared,
            range_header=request.headers.get("Range"),
            if_range=request.headers.get("If-Range"),
            if_none_match=request.headers.get("If-None-Match"),
            asynchronous=isinstance(request._request, ASGIRequest),
        )
