"""The baseline: the least a Channels server can do for a chat message.

No authentication, no database, no JSON parsing: a socket joins the group
``bench.<room>`` named by its query string (``/ws/?room=7``), and every text frame it
sends is ``group_send``-ed to that group and forwarded verbatim to each member. It runs
on the same daphne, with the same settings and channel layer as the application
(``daphne bench.baseline:application`` with ``DJANGO_SETTINGS_MODULE`` set), so the
difference between the two is what the application does per message.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402


class BareConsumer(AsyncWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        self.group = f"bench.{(query.get('room') or ['0'])[0]}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(self.group, {"type": "bench.forward",
                                                             "text": text_data})

    async def bench_forward(self, message: dict) -> None:
        await self.send(text_data=message["text"])


async def health(scope: dict, receive, send) -> None:
    """Plain HTTP answer, so the harness can tell when daphne is up."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter({"http": health, "websocket": BareConsumer.as_asgi()})
