"""The project's settings (``config.settings``, unchanged) plus what a benchmark run needs.

* ``BENCH_REDIS_PREFIX``: a key prefix of its own for the channel layer and the cache.
  The Redis database is shared with test stacks that other people run at the same time;
  their fresh databases reuse user and room ids 1, 2, 3 …, so without a prefix their
  ``room.1`` / ``user.1`` groups and ``presence:1`` keys would be ours too. A prefix only
  renames keys: the layer, its pool, capacity and expiry are the project's.
* ``BENCH_CHANNEL_LAYER``: ``core`` swaps in channels-redis' core layer (the first
  baseline: stock, but with room for a whole step's messages, capacity 20,000, so the
  baseline is measured by its speed, not by its drops); ``pubsub`` the stock pub/sub layer
  (the second baseline); unset keeps the project's layer (also pub/sub).
* ``BENCH_DB_POOL=N``: a what-if: Django's psycopg connection pool (Django ≥ 5.1,
  ``OPTIONS["pool"]``, needs ``psycopg-pool``) of at most N connections, instead of a new
  PostgreSQL connection per request / per ``database_sync_to_async`` call.
"""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import CACHES, CHANNEL_LAYERS, DATABASES, REDIS_URL, USING_POSTGRES

_prefix = os.environ.get("BENCH_REDIS_PREFIX", "")
_layer = os.environ.get("BENCH_CHANNEL_LAYER", "")

if REDIS_URL:
    if _layer == "pubsub":
        CHANNEL_LAYERS["default"] = {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL}]},
        }
    elif _layer == "core":
        CHANNEL_LAYERS["default"] = {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                       "capacity": 20000},
        }
    if _prefix:
        CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = _prefix
        CACHES["default"]["KEY_PREFIX"] = _prefix

_pool = int(os.environ.get("BENCH_DB_POOL", "0") or 0)
if _pool and USING_POSTGRES:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool requires it
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": _pool,
                                                             "timeout": 30}
