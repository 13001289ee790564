"""Settings. Everything a deployment changes comes from the environment (django-environ).

Defaults are the embedded ones `make run` uses on a fresh machine: SQLite under var/ and kombu's
filesystem transport as a server-less Celery broker. DATABASE_URL and CELERY_BROKER_URL (or
REDIS_URL) switch to PostgreSQL and Redis with no code change.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SLAPORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: no CDN needed
    "django_celery_beat",
    "audit",
    "customers",
    "sla",
    "notifications",
    "credits",
    "reports",
    "monitoring",
    "incidents",
    "operations",
    "complaints",
    "access_requests",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files (admin CSS, our assets) with DEBUG off, under gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "slaportal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "customers.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "slaportal.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait for locks instead of failing,
    # and take the write lock at BEGIN so a read-then-write never deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies are written by collectstatic; no manifest, so a template naming a file
    # that was never collected (tests, a fresh checkout) still renders.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Celery -------------------------------------------------------------------------------
_broker_default = env.str("REDIS_URL", default="") or "filesystem://"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=_broker_default)
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    # The transport needs its folders to exist; every process (web, worker, beat, a management
    # command) may be the first to publish, so each makes sure of them.
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast/pidbox exchanges; kombu's default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # Poll often: a breach must be acted on within seconds of due_at.
        "polling_interval": 0.2,
    }
else:
    # "priority": the worker always takes from the first queue in CELERY_TASK_QUEUES that has
    # a message (the sla queue below); the default round robin would not.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "queue_order_strategy": "priority"}
# The SLA sweep has its own queue, consumed before the default one: thousands of queued
# e-mails must not stand between a deadline and its breach (bench/clock_sweep.py measured
# p99 24 s with one shared FIFO queue). A worker started without -Q consumes both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue("sla", routing_key="sla"), Queue("celery", routing_key="celery")]
CELERY_TASK_ROUTES = {"sla.tasks.sweep": {"queue": "sla", "routing_key": "sla"}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
SLA_SWEEP_INTERVAL_SECONDS = env.float("SLA_SWEEP_INTERVAL_SECONDS", default=1.0)
CELERY_BEAT_SCHEDULE = {
    # Rows are the truth: every tick claims what has fallen due. A sweep that missed its
    # slot is useless a few seconds later (the next one does the same work), so it expires.
    "sla-sweep": {
        "task": "sla.tasks.sweep",
        "schedule": SLA_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": 10},
    },
    "notifications-resend-stale": {
        "task": "notifications.tasks.resend_stale",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "calendar-coverage-check": {
        "task": "sla.tasks.check_calendar_coverage",
        "schedule": 6 * 3600,
    },
    # Monitoring: claim and probe the targets that are due (each at its own phase slot).
    "monitoring-probe-due": {
        "task": "monitoring.tasks.probe_due",
        "schedule": 5.0,
        "options": {"expires": 20},
    },
    # Incidents: move emergency notices on once their notification was sent or failed.
    "incidents-advance-notices": {
        "task": "incidents.tasks.advance_notices",
        "schedule": 5.0,
        "options": {"expires": 20},
    },
    # Machine-room visits: no-shows and overstays every few minutes, visits never checked out
    # at the end of the day, and erasure of ID numbers past the retention time once a night.
    "visits-sweep": {
        "task": "access_requests.tasks.sweep",
        "schedule": 300,
        "options": {"expires": 240},
    },
    "visits-not-checked-out": {
        "task": "access_requests.tasks.flag_open_at_day_end",
        "schedule": crontab(hour=23, minute=50),
    },
    "visits-erase-id-numbers": {
        "task": "access_requests.tasks.erase_id_numbers",
        "schedule": crontab(hour=3, minute=20),
    },
}

# --- Notifications ------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
                        if env.str("EMAIL_HOST", default="") else "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sla-portal@localhost")

# One backend per gateway channel; e-mail always goes through Django's mail backend.
# "notifications.channels.webhook.WebhookBackend" posts JSON to NOTIFICATION_WEBHOOK_URL.
NOTIFICATION_BACKENDS = {
    "sms": env.str("NOTIFY_SMS_BACKEND", default="notifications.channels.logging.LoggingBackend"),
    "phone": env.str("NOTIFY_PHONE_BACKEND", default="notifications.channels.logging.LoggingBackend"),
    "pager": env.str("NOTIFY_PAGER_BACKEND", default="notifications.channels.logging.LoggingBackend"),
    "fax": env.str("NOTIFY_FAX_BACKEND", default="notifications.channels.logging.LoggingBackend"),
}
NOTIFICATION_WEBHOOK_URL = env.str("NOTIFICATION_WEBHOOK_URL", default="")
NOTIFICATION_WEBHOOK_TOKEN = env.str("NOTIFICATION_WEBHOOK_TOKEN", default="")
NOTIFICATION_WEBHOOK_TIMEOUT = env.float("NOTIFICATION_WEBHOOK_TIMEOUT", default=10.0)

PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "slaportal.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SLA Portal API",
    "DESCRIPTION": "Service-quality promises as clocks, credits and reports.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or a "state": name each choice set after its class.
    "ENUM_NAME_OVERRIDES": {
        "VisitStateEnum": "access_requests.choices.VisitState",
        "ClockStateEnum": "sla.choices.ClockState",
        "PolicyKindEnum": "sla.choices.PolicyKind",
        "ServiceKindEnum": "customers.choices.ServiceKind",
        "CreditKindEnum": "credits.choices.CreditKind",
        "CreditStateEnum": "credits.choices.CreditState",
        "OperationStateEnum": "operations.choices.OperationState",
        "AuthorizationStatusEnum": "operations.choices.AuthorizationStatus",
        "PhoneAttemptResultEnum": "operations.choices.PhoneAttemptResult",
        "ComplaintStateEnum": "complaints.choices.ComplaintState",
        "ComplaintChannelEnum": "complaints.choices.ComplaintChannel",
        "LanguageEnum": "customers.choices.Language",
        "IncidentStateEnum": "incidents.choices.IncidentState",
        "IncidentSourceEnum": "incidents.choices.IncidentSource",
        "ReportChannelEnum": "incidents.choices.ReportChannel",
        "OutageKindEnum": "incidents.choices.OutageKind",
        "OutageSourceEnum": "incidents.choices.OutageSource",
        "OutageCauseEnum": "incidents.choices.Cause",
        "NoticeExemptionEnum": "incidents.choices.NoticeExemption",
        "NoticeOutcomeEnum": "incidents.choices.NoticeOutcome",
        "CheckKindEnum": "monitoring.choices.CheckKind",
        "ProbeMethodEnum": "monitoring.choices.ProbeMethod",
        "TargetStateEnum": "monitoring.choices.TargetState",
        "NotificationChannelEnum": "notifications.choices.Channel",
        "NotificationStatusEnum": "notifications.choices.Status",
        "ContactChannelEnum": "customers.choices.ContactChannel",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "kv": {"format": "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Machine-room visits (机房开放) ------------------------------------------------------------
VISIT_LEAD_TIME_HOURS = env.float("VISIT_LEAD_TIME_HOURS", default=24.0)
VISIT_NO_SHOW_GRACE_MINUTES = env.float("VISIT_NO_SHOW_GRACE_MINUTES", default=60.0)
VISIT_ID_RETENTION_DAYS = env.float("VISIT_ID_RETENTION_DAYS", default=90.0)

# --- Reports and uploads ------------------------------------------------------------------
PROVIDER_NAME = env.str("PROVIDER_NAME", default="SLA Portal 数据中心服务有限公司")
PROVIDER_ADDRESS = env.str("PROVIDER_ADDRESS", default="")
PROVIDER_COMPLAINT_LINE = env.str("PROVIDER_COMPLAINT_LINE", default="400-000-0000")
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024

# --- Incidents -----------------------------------------------------------------------------
# An office-phone notice the engineer has not recorded after this long no longer holds up the
# next channel of the 15-minute notice (C4).
NOTICE_CALL_WAIT_MINUTES = env.float("NOTICE_CALL_WAIT_MINUTES", default=5.0)

# --- Authorized operations: phone authorization lock-out (seed 第六条: 非法授权) --------------
PHONE_AUTH_MAX_FAILURES = env.int("PHONE_AUTH_MAX_FAILURES", default=5)
PHONE_AUTH_WINDOW_MINUTES = env.int("PHONE_AUTH_WINDOW_MINUTES", default=15)
PHONE_AUTH_LOCK_MINUTES = env.int("PHONE_AUTH_LOCK_MINUTES", default=15)
