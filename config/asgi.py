"""ASGI entry point: HTTP to Django, ``/ws/`` to the room consumer."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything imports models.
django_http = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from chat.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_http,
        "websocket": websocket_application,
    }
)
