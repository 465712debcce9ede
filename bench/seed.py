"""Fixtures and in-process measurements, run as ``python -m bench.seed COMMAND`` in the
stack's environment (its database and Redis prefix); JSON in on stdin, JSON out on the
last line of stdout.

* ``users``: many users with tokens at once. Signing up over REST hashes each password
  (PBKDF2, about 0.4 s per user here), which would make the fixtures of 10,000 idle
  sockets take an hour; so users share one precomputed hash and are bulk-inserted.
* ``messages``: a room's log filled through ``chat.services.send_message`` (the real
  write path, minus the socket).
* ``sqlcount``: SQL queries per REST request, counted with Django's test client and
  ``CaptureQueriesContext`` against the same database, for several page sizes.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import django

PASSWORD = "a-long-enough-Pa55word"


def users(count: int, role: str, prefix: str, skills: list[str]) -> list[dict[str, Any]]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from accounts.models import User
    from accounts.services import get_or_create_skills

    password = make_password(PASSWORD)
    out: list[dict[str, Any]] = []
    with transaction.atomic():
        skill_rows = get_or_create_skills(names=skills)
        for start in range(0, count, 1000):
            batch = [
                User(username=f"{prefix}{role[0]}{i}", email=f"{prefix}{role[0]}{i}@example.com",
                     role=role, display_name=f"{prefix} {role} {i}", password=password)
                for i in range(start, min(count, start + 1000))
            ]
            created = User.objects.bulk_create(batch)
            tokens = Token.objects.bulk_create(
                [Token(user=user, key=Token.generate_key()) for user in created])
            if skill_rows:
                through = User.skills.through
                through.objects.bulk_create([through(user_id=user.pk, skill_id=skill.pk)
                                             for user in created for skill in skill_rows])
            out += [{"id": u.pk, "username": u.username, "token": t.key}
                    for u, t in zip(created, tokens, strict=True)]
    return out


def messages(room: int, sender: int, count: int, body_bytes: int) -> dict[str, Any]:
    from accounts.models import User
    from chat import events, services

    # Nobody listens yet, and a sync script would open a Redis connection per publish
    # (async_to_sync makes a new event loop each call): skip the push, keep the write.
    events.get_channel_layer = lambda: None
    user = User.objects.get(pk=sender)
    head = 0
    for i in range(count):
        body = f"catch-up {i} ".ljust(body_bytes, "x")
        head = services.send_message(room_id=room, sender=user, body=body,
                                     client_id=f"seed-{room}-{i}-{os.getpid()}").event.seq
    return {"head": head}


def sqlcount(token_by_size: dict[str, str], events_room: int, events_token: str,
             event_limits: list[int], message_room: int, message_token: str) -> dict[str, Any]:
    """Queries per request for each page size; "pages" are the number of engagements a
    user has (the list is not paginated) and the ``limit`` of an events page."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def count(method: str, path: str, token: str, **kwargs: Any) -> tuple[int, int, int]:
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(path, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.content[:300])
        body = response.json()
        items = len(body) if isinstance(body, list) else len(body.get("events", [1]))
        return len(queries), items, response.status_code

    count("get", "/api/engagements/", events_token)  # warm: first request loads a lot
    result: dict[str, Any] = {"engagements": [], "events": [], "post_message": []}
    for _size, token in sorted(token_by_size.items(), key=lambda kv: int(kv[0])):
        queries, items, _ = count("get", "/api/engagements/", token)
        result["engagements"].append({"page": items, "queries": queries})
    for limit in event_limits:
        queries, items, _ = count("get", f"/api/engagements/{events_room}/events/",
                                  events_token, data={"after": 0, "limit": limit})
        result["events"].append({"page": items, "queries": queries})
    for i, body_len in enumerate([10, 1000]):
        queries, _, _ = count("post", f"/api/engagements/{message_room}/messages/",
                              message_token, content_type="application/json",
                              data=json.dumps({"body": "x" * body_len,
                                               "client_id": f"sqlcount-{os.getpid()}-{i}"}))
        result["post_message"].append({"body": body_len, "queries": queries})
    return result


COMMANDS = {"users": users, "messages": messages, "sqlcount": sqlcount}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    command = sys.argv[1]
    payload = json.loads(sys.stdin.read() or "{}")
    result = COMMANDS[command](**payload)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
