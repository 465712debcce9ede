"""``config.settings`` for end-to-end stacks: the same, with Redis keys of their own.

Stacks share one Redis database, and each stack's fresh database reuses the ids 1, 2,
3 …, so without a prefix one stack's ``room.1`` group, ``presence:1`` key and task queue
would be every parallel stack's too (a socket in room 1 got another run's events).
``E2E_REDIS_PREFIX`` (set per stack by ``running_stack``) only renames keys.
"""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, CHANNEL_LAYERS, Q_CLUSTER, REDIS_URL

E2E_REDIS_PREFIX = os.environ.get("E2E_REDIS_PREFIX", "")

if REDIS_URL and E2E_REDIS_PREFIX:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = E2E_REDIS_PREFIX
    CACHES["default"]["KEY_PREFIX"] = E2E_REDIS_PREFIX
    Q_CLUSTER["name"] = f"{E2E_REDIS_PREFIX}-{Q_CLUSTER['name']}"
