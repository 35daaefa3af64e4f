"""Django settings, read from the environment with defaults that need no configuration.

With nothing set, the site runs on SQLite and Celery uses kombu's filesystem transport
under `var/`, so one machine runs the web app and a real worker with no server.
`DATABASE_URL` switches to PostgreSQL and `CELERY_BROKER_URL` to Redis or RabbitMQ.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from kombu import Queue  # type: ignore[attr-defined]

from evaluation.capacity import parse_capacities
from leaderboard.env import envbool, envint, envlist, envschedule, envstr, local_secret

# Lets typed generics such as admin.ModelAdmin[Model] work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("NAVAB_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
# Production sets SECRET_KEY (or SECRET_KEY_FILE); otherwise each installation makes its own.
SECRET_KEY = envstr("SECRET_KEY", "") or local_secret(VAR_DIR / "secret_key")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = envstr("SITE_NAME", "Value-alignment leaderboard")
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
# Job notifications; without EMAIL_HOST they are printed by the worker instead of sent.
EMAIL_HOST = envstr("EMAIL_HOST", "")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "navab-leaderboard@localhost")
# Workers send these mails: a stalled mail server must not hold a GPU worker.
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT_S", 10)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaderboard.catalog",
    "leaderboard.evals",
    "leaderboard.accounts",
    "leaderboard.boards",
    "leaderboard.pipeline_runs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before static files, sessions and views: each of them may look input up in the database
    # or the file system, where a NUL byte fails.
    "leaderboard.middleware.RejectUnstorableInput",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "leaderboard.urls"
WSGI_APPLICATION = "leaderboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "leaderboard.context_processors.site",
            ],
        },
    },
]

_sqlite_url = f"sqlite:///{VAR_DIR / 'navab.sqlite3'}"
DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", _sqlite_url), conn_max_age=envint("DB_CONN_MAX_AGE", 0)
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids
    # "database is locked" on write transactions that start as reads.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "leaderboard.boards.finders.PlotlyFinder",
]
STATIC_ROOT = VAR_DIR / "staticfiles"
# WhiteNoise scans STATIC_ROOT at start-up; an empty one (no collectstatic yet) is fine.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app directories without collectstatic in development runs.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {
    "default": (
        {
            # Redis, with local memory standing in while it is down (leaderboard/shared_cache.py).
            "BACKEND": "leaderboard.shared_cache.FallbackRedisCache",
            "LOCATION": envstr("CACHE_URL", ""),
            # An unreachable host must not hold every request for the system's TCP timeout.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 5.0},
        }
        if envstr("CACHE_URL", "").startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "navab"}
    )
}

# How long a web process trusts the board version it last read before asking the database
# again: a change made by another process (a worker's new scores) shows within this long, one
# made in this process at once. 0 asks on every request (one query).
BOARD_VERSION_MEMO_MS = envint("BOARD_VERSION_MEMO_MS", 1000)

# --- Celery -----------------------------------------------------------------------------
_broker_dir = VAR_DIR / "broker"
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.rstrip("/") == "filesystem:":
    # kombu logs "No hostname was supplied. Reverting to default 'localhost'" at WARNING on
    # every connection to a URL without a host; the filesystem transport ignores the host,
    # so name the one kombu would use and the demo's log keeps its warnings for real ones.
    CELERY_BROKER_URL = "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
# Queues by role (`default`: CPU work; `gpu`: evaluation and training), and the exchanges
# workers answer broadcasts and send events on. Sites, or test runs, that share one broker
# set a namespace each: none then takes the others' messages or answers their broadcasts.
BROKER_NAMESPACE = envstr("BROKER_NAMESPACE", "")
_ns = f"{BROKER_NAMESPACE}." if BROKER_NAMESPACE else ""
BROKER_QUEUES = {role: _ns + role for role in ("default", "gpu")}
CELERY_TASK_QUEUES = tuple(Queue(name) for name in BROKER_QUEUES.values())  # type: ignore[no-untyped-call]
CELERY_TASK_DEFAULT_QUEUE = BROKER_QUEUES["default"]
CELERY_CONTROL_EXCHANGE = _ns + "celery"
CELERY_EVENT_EXCHANGE = _ns + "celeryev"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 6 * 3600)
if CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # Redis re-delivers unacknowledged tasks after this long; jobs ack late and may run for
    # the whole time limit, so wait past it (the delivery token makes a re-delivery harmless).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 6 * 3600 - 300)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- REST framework ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "leaderboard.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "leaderboard.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": envstr("API_ANON_RATE", "120/min"),
        "user": envstr("API_USER_RATE", "600/min"),
        "submissions": envstr("API_SUBMISSION_RATE", "20/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Value-alignment Leaderboard API",
    "DESCRIPTION": (
        "Read the hosted benchmarks (each one's declaration, releases, items and board, under "
        "/api/benchmarks/<slug>/) and their results; NaVAB's endpoints from before keep their "
        "addresses."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "leaderboard.api.schema.document_errors",
        "leaderboard.catalog.scoping.describe_benchmarks",
    ],
    # Releases and jobs both have a `status` field; name their enums apart in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ReleaseStatusEnum": "leaderboard.catalog.models.DatasetRelease.Status",
        "JobStatusEnum": "leaderboard.evals.models.JobStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}

if not DEBUG and os.environ.get("HTTPS", "") == "on":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Evaluation jobs --------------------------------------------------------------------
EVAL_MAX_INFRA_RETRIES = envint("EVAL_MAX_INFRA_RETRIES", 2)
EVAL_HEARTBEAT_INTERVAL = envint("EVAL_HEARTBEAT_INTERVAL_S", 10)
EVAL_HEARTBEAT_TIMEOUT = timedelta(seconds=envint("EVAL_HEARTBEAT_TIMEOUT_S", 300))
# Where the broker cannot be browsed, or no worker answers broadcasts: re-send a waiting job
# this long after it was sent (doubling each time).
EVAL_QUEUE_RESEND_AFTER = timedelta(seconds=envint("EVAL_QUEUE_RESEND_AFTER_S", 1800))
# A running job this long without a heartbeat whose worker no longer runs it (or no longer
# answers) is retried before the heartbeat timeout; a waiting job this long after its send
# that is neither on the queue nor held by a worker is re-sent (lost in a broker restart).
EVAL_WORKER_LOST_AFTER = timedelta(seconds=envint("EVAL_WORKER_LOST_AFTER_S", 30))
EVAL_LOST_MESSAGE_AFTER = timedelta(seconds=envint("EVAL_LOST_MESSAGE_AFTER_S", 60))
EVAL_REAPER_INTERVAL = envint("EVAL_REAPER_INTERVAL_S", 30)
EVAL_DEVICE = envstr("EVAL_DEVICE", "auto")
EVAL_BACKEND = envstr("EVAL_BACKEND", "hf")  # "hf" (transformers) or "vllm" on GPU workers
if EVAL_BACKEND not in ("hf", "vllm"):
    raise ValueError(f"EVAL_BACKEND must be hf or vllm, got {EVAL_BACKEND!r}")
# The GPU workers this site has, as GPUSxMEMORYg per worker ("1x80g,8x80g"): each has a queue
# (`gpu.1x80g`), a job goes to the smallest that holds its model (evaluation/capacity.py) and a
# model none holds is refused at submission. Empty: every job goes to the plain `gpu` queue.
# Set it the same on web hosts and workers (a worker snaps its detected memory to these sizes).
try:
    EVAL_GPU_CAPACITIES = parse_capacities(envstr("EVAL_GPU_CAPACITIES", ""))
except ValueError as exc:
    raise ValueError(f"EVAL_GPU_CAPACITIES: {exc}") from exc
EVAL_SEED = envint("EVAL_SEED", 1234)
EVAL_MAX_GEN_TOKENS = envint("EVAL_MAX_GEN_TOKENS", 128)
# Where every worker shares the providers' limits (requests per minute, requests in flight):
# a Redis URL; by default the broker's, where it is Redis. Empty (the filesystem broker, or
# "none"): each worker process keeps the limits by itself.
EVAL_LIMITS_URL = envstr(
    "EVAL_LIMITS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
if EVAL_LIMITS_URL == "none":
    EVAL_LIMITS_URL = ""
# The longest `Retry-After` a request waits out in place; a provider asking for longer makes
# the job wait (queued again once the wait is over), never fail.
EVAL_RETRY_AFTER_CAP_S = envint("EVAL_RETRY_AFTER_CAP_S", 30)
EVAL_RESULTS_DIR = Path(envstr("EVAL_RESULTS_DIR", str(VAR_DIR / "results")))
# The reference judge of judged methods (NaVAB's aj_ref): one open model, "ORG/NAME@COMMIT" or
# a local directory, that judges every model's free answers alike. Unset: those methods are
# not run, and their boards say so. Set it the same on web hosts and workers.
EVAL_REFERENCE_JUDGE = envstr("EVAL_REFERENCE_JUDGE", "")
EVAL_REFERENCE_JUDGE_DTYPE = envstr("EVAL_REFERENCE_JUDGE_DTYPE", "auto")
if EVAL_REFERENCE_JUDGE:
    from evaluation.spec import parse_model_ref

    try:
        parse_model_ref(EVAL_REFERENCE_JUDGE, dtype=EVAL_REFERENCE_JUDGE_DTYPE)
    except ValueError as exc:
        raise ValueError(f"EVAL_REFERENCE_JUDGE: {exc}") from exc
SUBMISSIONS_PER_DAY = envint("SUBMISSIONS_PER_DAY", 5)
# Hosts of OpenAI-compatible endpoints non-staff users may submit (staff may submit any).
SUBMISSION_ENDPOINT_HOSTS = [h.lower() for h in envlist("SUBMISSION_ENDPOINT_HOSTS", [])]
SUBMISSION_MAX_PARAMS_B = float(envstr("SUBMISSION_MAX_PARAMS_B", "100"))
# Local model directories submissions may point at; by default only var/models, where the demo
# command puts its tiny models, so a fresh checkout can submit without the hub.
LOCAL_MODELS_DIR = VAR_DIR / "models"
SUBMISSION_LOCAL_ROOTS = [
    Path(p) for p in envlist("SUBMISSION_LOCAL_ROOTS", [str(LOCAL_MODELS_DIR)])
]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "reap-stale-jobs": {
        "task": "leaderboard.evals.tasks.reap_stale_jobs",
        "schedule": float(EVAL_REAPER_INTERVAL),
        "options": {"queue": BROKER_QUEUES["default"]},
    },
}
# How often each benchmark's default board is frozen as a citable snapshot (unset: never;
# an unchanged board is not frozen again).
BOARD_SNAPSHOT_SCHEDULE = envschedule("BOARD_SNAPSHOT_SCHEDULE")
if BOARD_SNAPSHOT_SCHEDULE is not None:
    CELERY_BEAT_SCHEDULE["freeze-default-boards"] = {
        "task": "leaderboard.boards.tasks.freeze_default_boards",
        "schedule": BOARD_SNAPSHOT_SCHEDULE,
        "options": {"queue": BROKER_QUEUES["default"]},
    }
