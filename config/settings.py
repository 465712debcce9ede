"""Settings, read from the environment.

Without any environment the project runs on the *embedded default*: SQLite, the
in-memory channel layer, the local-memory cache and django-q2 on the ORM broker.
Setting ``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL and Redis (channel
layer, cache and django-q2 broker); nothing else in the code knows which it runs on.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    # A fixed key is only acceptable for the embedded default; production sets SECRET_KEY.
    "insecure-embedded-default-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_q",
    "accounts",
    "chat",
    "deals",
    "files",
    "scheduling",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the daphne process and the django-q2 cluster share the
    # embedded database without "database is locked" errors; IMMEDIATE transactions take
    # the write lock up front, the closest SQLite gets to select_for_update.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if USING_POSTGRES and env_bool("DB_POOL", default=True):
    # A connection pool (psycopg_pool, Django ≥ 5.1): channels closes the connection
    # around every database call of a consumer, and under ASGI every request runs in a
    # thread of its own, so without a pool each call paid for a new PostgreSQL
    # connection (about a fifth of the message path's time, measured in bench/).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 2),
        "max_size": env_int("DB_POOL_MAX", 30),
        "timeout": env_int("DB_POOL_TIMEOUT", 10),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: channel layer, cache, django-q2 broker ------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis' pub/sub layer: a group_send is one PUBLISH, and each process
            # holds one subscription per group for all of its sockets. The core layer's
            # per-member queues cost about eleven Redis round trips per message, dropped
            # pushes silently over capacity and left group entries behind a crashed
            # process (measured in bench/). Pub/sub delivers at most once and keeps
            # nothing, which is all a push needs to be here: the event log is the truth
            # and every consumer fills gaps from it (chat.consumers).
            # chat.layers adds one method: a batch's pushes in one pipelined round trip.
            "BACKEND": "chat.layers.PubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # redis-py 8 defaults to a 5 s socket timeout, which kills a
                        # blocking read on an idle connection (channels_redis#422).
                        "socket_timeout": None,
                    }
                ],
            },
        }
    }
    if env_int("CHANNEL_DROP_EVERY", 0):
        # Fault injection for tests: drop every Nth room push.
        CHANNEL_LAYERS["default"]["BACKEND"] = "chat.layers.DroppingChannelLayer"
        CHANNEL_LAYERS["default"]["CONFIG"]["drop_every"] = env_int("CHANNEL_DROP_EVERY", 0)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

Q_CLUSTER: dict = {
    "name": "engagements",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 60,
    "retry": 120,
    "catch_up": False,
    "save_limit": 1000,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Static, media, i18n ----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# WhiteNoise serves the apps' static folders directly, so a server works without a
# collectstatic step (tests, `make run`); deployments that run collectstatic may turn it off.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=True)
# WhiteNoise warns on every start when STATIC_ROOT is missing (no collectstatic yet).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded documents live outside any URL space: downloads go through a view that checks
# membership.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Content Security Policy (django-csp) -------------------------------------------------
# No inline script anywhere: pages load ES modules from /static/, data comes in JSON
# <script type="application/json"> blocks read by those modules.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Engagements API",
    "DESCRIPTION": "Requests, proposals, engagements and their live rooms.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "ProjectStateEnum": "deals.models.Project.State",
        "EngagementStateEnum": "deals.models.Engagement.State",
    },
}

# Sign-up and token requests per client address ("off" disables, e.g. for load tests).
AUTH_THROTTLE_RATE: str | None = os.environ.get("AUTH_THROTTLE_RATE", "30/min")
if AUTH_THROTTLE_RATE == "off":
    AUTH_THROTTLE_RATE = None

# --- Product settings ---------------------------------------------------------------------
# How long the client has to answer a delivery before it is approved automatically.
REVIEW_WINDOW = timedelta(seconds=env_int("REVIEW_WINDOW_SECONDS", 72 * 3600))
# How long before that deadline the client is reminded.
REVIEW_REMINDER_BEFORE = timedelta(seconds=env_int("REVIEW_REMINDER_SECONDS", 24 * 3600))
# Reviews stay hidden from the other side until both are in or this much time has passed.
REVIEW_BLIND_PERIOD = timedelta(days=env_int("REVIEW_BLIND_DAYS", 14))
MESSAGE_MAX_LENGTH = env_int("MESSAGE_MAX_LENGTH", 10_000)
MESSAGE_EDIT_WINDOW = timedelta(minutes=env_int("MESSAGE_EDIT_WINDOW_MINUTES", 15))
EVENTS_PAGE_MAX = env_int("EVENTS_PAGE_MAX", 1000)
EVENTS_WAIT_MAX_SECONDS = env_int("EVENTS_WAIT_MAX_SECONDS", 30)

# --- WebSocket ----------------------------------------------------------------------------
WS_TICKET_TTL_SECONDS = env_int("WS_TICKET_TTL_SECONDS", 30)
# Presence lapses this long after a socket's last heartbeat (the browser pings every 20 s).
PRESENCE_TTL_SECONDS = env_int("PRESENCE_TTL_SECONDS", 60)
WS_MAX_FRAME_BYTES = env_int("WS_MAX_FRAME_BYTES", 128 * 1024)
# Per-connection token bucket: sustained frames per second, and the burst allowed.
WS_RATE_PER_SECOND = float(os.environ.get("WS_RATE_PER_SECOND", 10))
WS_RATE_BURST = env_int("WS_RATE_BURST", 40)
TYPING_THROTTLE_SECONDS = float(os.environ.get("TYPING_THROTTLE_SECONDS", 2))
# Activity notifications for one (user, room) are folded into one per this many seconds
# (the first at once, the latest at the end of the window); 0 sends every one.
ACTIVITY_COALESCE_SECONDS = float(os.environ.get("ACTIVITY_COALESCE_SECONDS", 1))
WS_REPLAY_PAGE = env_int("WS_REPLAY_PAGE", 500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "channels_redis": {"level": "INFO"},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- Calls (scheduling) ---------------------------------------------------------------------
# Both members get a `notify` this long before a confirmed call starts.
CALL_REMINDER_BEFORE = timedelta(minutes=env_int("CALL_REMINDER_MINUTES", 15))
# The meeting link of a confirmed call whose proposer gave none; {token} becomes a random,
# unguessable URL-safe name.
CALL_MEETING_URL_TEMPLATE = os.environ.get(
    "CALL_MEETING_URL_TEMPLATE", "https://meet.jit.si/engagement-{token}"
)
# How far back a user's calendar feed reaches (calls ahead are always listed).
CALL_FEED_PAST_DAYS = env_int("CALL_FEED_PAST_DAYS", 365)

# --- Files (documents shared in rooms) --------------------------------------------------------
# Largest file accepted, in bytes (413 beyond). The limit is checked against Content-Length
# before the body is parsed, and again while the file streams to a temp file.
FILES_MAX_BYTES = env_int("FILES_MAX_BYTES", 25 * 1024 * 1024)
# Files (versions not removed) one room may hold.
FILES_MAX_PER_ROOM = env_int("FILES_MAX_PER_ROOM", 200)
# Types accepted, by name (see files/content_types.py KINDS): documents, images, archives,
# plain text. Never executables, HTML or SVG, which no name here stands for.
FILES_ALLOWED_TYPES = env_list(
    "FILES_ALLOWED_TYPES",
    "pdf,docx,xlsx,pptx,odt,ods,odp,doc,xls,ppt,rtf,"
    "png,jpeg,gif,webp,tiff,heic,"
    "zip,gzip,tar,7z,"
    "txt,csv,tsv,md",
)
# Uploads always stream to a temp file (files.uploads), so this only bounds the
# non-file form fields of a request, and JSON bodies elsewhere: Django's default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Under ASGI Django spools each request body before the view runs: in memory up to this,
# on disk beyond (default 2.5 MiB, per concurrent upload). No upload is kept in memory
# here anyway, so a small spool keeps twenty concurrent uploads within a few MiB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# Documents are private: readable by the server's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Local files under MEDIA_ROOT by default; S3-compatible storage (django-storages, the
# `s3` extra) when a bucket is named. Credentials come from the usual AWS_* variables.
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    import importlib.util

    if importlib.util.find_spec("storages") is None:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "AWS_STORAGE_BUCKET_NAME is set but django-storages is not installed: "
            "pip install -e '.[s3]'"
        )
    STORAGES["files"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "location": os.environ.get("AWS_S3_LOCATION", "files"),
            "default_acl": "private",
            "file_overwrite": False,
            # Reads through the storage API spool to disk past this (ranged downloads
            # bypass it and stream).
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
else:
    STORAGES["files"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
