"""Errors that services raise, and how the API renders every error.

Services raise :class:`ServiceError` subclasses; they know nothing of HTTP beyond the
status each kind maps to. The DRF exception handler turns those, and DRF's own errors,
into the contract's body: ``{"code": "...", "detail": "..."}`` (plus ``fields`` for
validation errors and ``state`` for conflicts).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response


class ServiceError(Exception):
    """A use case refused; ``code`` is stable and documented, ``detail`` is for people."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class InvalidInput(ServiceError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class NotFound(ServiceError):
    """Also what a non-member gets: never reveal that a room exists."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Forbidden(ServiceError):
    """A member acting outside their role."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


class Conflict(ServiceError):
    """The current state forbids the action; the body names that state."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, *, state: str, code: str | None = None, **extra: Any):
        super().__init__(detail, code=code, state=state, **extra)
        self.state = state


class TooLarge(ServiceError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class Gone(ServiceError):
    """The record is still there, what it stood for is not (a removed file's bytes)."""

    status_code = status.HTTP_410_GONE
    default_code = "gone"


def _first_message(data: Any) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            message = _first_message(value)
            if message:
                return message if key == "non_field_errors" else f"{key}: {message}"
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data) if data else ""


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ServiceError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if not isinstance(exc, drf_exceptions.APIException):
        return None

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, drf_exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {"code": "invalid", "detail": _first_message(fields) or "Invalid input.",
                "fields": fields}
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = {"code": code, "detail": str(exc.detail)}
    return Response(body, status=exc.status_code, headers=headers)
