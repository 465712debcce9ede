"""The two refusals of the files domain that need a status config.errors has no class for."""

from __future__ import annotations

from rest_framework import status

from config.errors import ServiceError


class TooLarge(ServiceError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class Gone(ServiceError):
    """A removed file: its record is still there, its bytes are not."""

    status_code = status.HTTP_410_GONE
    default_code = "gone"
