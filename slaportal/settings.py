"""Settings. Everything a deployment changes comes from the environment (django-environ).

Defaults are the embedded ones `make run` uses on a fresh machine: SQLite under var/ and kombu's
filesystem transport as a server-less Celery broker. DATABASE_URL and CELERY_BROKER_URL (or
REDIS_URL) switch to PostgreSQL and Redis with no code change.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from slaportal.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SLAPORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
# The key that signs sessions, password-reset links and the e-mailed acknowledgement links. With
# DEBUG off the portal refuses to start without one of its own (`make run` generates one per
# install in var/secret_key); the development key below is public, so anyone could forge with it.
_DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
SECRET_KEY = env.str("SECRET_KEY", default="")
if SECRET_KEY in ("", _DEV_SECRET_KEY):
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the portal needs a secret key of its own: set "
            "SECRET_KEY in the environment (or in .env) to a long random string, for example the "
            "output of `python -c \"import secrets; print(secrets.token_urlsafe(50))\"`, and keep it "
            "the same across restarts. (For development only: DEBUG=1 uses a public key.)")
    SECRET_KEY = _DEV_SECRET_KEY
# No "*": a request naming any other host is refused (400), so a forged Host header cannot steer
# password-reset links elsewhere. With DEBUG on, the local names.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # DRF's own tokens are replaced by accounts.ApiToken; kept only while customers/api/views.py
    # still imports ObtainAuthToken (its table stays: accounts' migration 0002 imported its keys).
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: no CDN needed
    "django_celery_beat",
    "axes",  # failed sign-ins and lockouts (accounts/lockout.py)
    "csp",  # Content-Security-Policy header and nonces
    "audit",
    "runtime",
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
    "accounts",
    "orders",
    "settlement",
    "mailservice",
    "abuse",
    "traffic",
    "servicedesk",
    "search",  # last: it reads the other apps' selectors and indexes their tables
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves collected static files (admin CSS, our assets) with DEBUG off, under gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes requires: turns a sign-in refused for a lockout into the lockout page / 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "slaportal.urls"

# <select> written in Python (the template per <option> dominated filter forms): see the module.
FORM_RENDERER = "slaportal.renderers.FastSelectRenderer"

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
                "notifications.context_processors.inbox",
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
    # One connection per gunicorn thread (gthread: WEB_CONCURRENCY x WEB_THREADS per host, bounded
    # in slaportal/gunicorn_conf.py), reused for a minute and checked before reuse, so a database
    # restart costs no failed request.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

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

# --- Security -----------------------------------------------------------------------------
# Secure by default when DEBUG is off; each relaxation is an explicit environment variable
# (`make run` on plain HTTP at 127.0.0.1 sets SECURE_SSL_REDIRECT=0, SECURE_HSTS_SECONDS=0,
# SESSION_COOKIE_SECURE=0, CSRF_COOKIE_SECURE=0).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers, the monitoring target and Prometheus reach /healthz and /metrics over plain
# HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
# The portal normally has a host name of its own, so its subdomains (none) are no concern;
# "preload" only consents to a submission to the browsers' list, which is made by hand.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https (only if
# the proxy always sets or overwrites that header; otherwise a client could claim HTTPS).
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _proxy_ssl_header and len(_proxy_ssl_header) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be two comma-separated values, "
                               "e.g. HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if _proxy_ssl_header else None
# How many reverse proxies in front of the portal append to X-Forwarded-For: the client address
# for sign-in throttling is taken from there (0: REMOTE_ADDR, which behind a proxy would be the
# proxy's, and one lock would then shut everybody out).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sign-in throttling (django-axes; accounts/lockout.py): the login page, the admin login and
# POST /api/auth/token/ count failures per user name and, separately, per client address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked user name or address
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_LOCKOUT_USER_FAILURES = env.int("LOGIN_LOCKOUT_USER_FAILURES", default=10)
# Higher: a customer's whole office may sign in from one address.
LOGIN_LOCKOUT_IP_FAILURES = env.int("LOGIN_LOCKOUT_IP_FAILURES", default=50)
LOGIN_LOCKOUT_MINUTES = env.float("LOGIN_LOCKOUT_MINUTES", default=15.0)
AXES_HANDLER = "accounts.lockout.LoginLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit_for_axes"
AXES_COOLOFF_TIME = "accounts.lockout.cool_off_for_axes"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Attempts while locked are not counted: a lock ends LOGIN_LOCKOUT_MINUTES after the failures
# that caused it, however often someone keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False  # our handler clears the user's own failures, not the address's
AXES_DISABLE_ACCESS_LOG = True  # no row per successful sign-in (nothing would ever prune them)
AXES_ENABLE_ADMIN = False  # locks are lifted on the managers' page, which audits it
AXES_VERBOSE = False

# API tokens (accounts.ApiToken) expire this long after they are issued.
API_TOKEN_TTL_HOURS = env.float("API_TOKEN_TTL_HOURS", default=720.0)

# Content-Security-Policy (django-csp): nothing from other origins, no inline script (a template
# that needs one gives it the request's nonce: templates/drf_spectacular/swagger_ui.html), no
# framing. Inline style attributes stay allowed (style-src-attr): the admin, DRF's browsable API
# and Swagger UI use them, and they cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "style-src-elem": ["'self'", NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "upgrade-insecure-requests": SECURE_SSL_REDIRECT,
    },
}

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
# The sweep and the sender are loops of their own (manage.py run_sweep, send_notifications) that
# need only the database. Beat runs the same work as a second path every few seconds: a
# deployment that runs no loops still breaches and delivers, and the two never act twice (both
# claim rows with conditional UPDATEs).
SLA_SWEEP_INTERVAL_SECONDS = env.float("SLA_SWEEP_INTERVAL_SECONDS", default=5.0)
# How month close issues the customers' statements: "task" (the worker, in chunks), "inline", "off".
SETTLEMENT_STATEMENTS = env.str("SETTLEMENT_STATEMENTS", default="task")
CELERY_BEAT_SCHEDULE = {
    # Service desk: read the service mailbox (new requests, replies threaded by the subject's
    # token) and, once a day, remind contracts 60 and 30 days before their end.
    "servicedesk-mailbox-read": {
        "task": "servicedesk.tasks.mailbox_read",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
    "servicedesk-renewal-reminders": {
        "task": "servicedesk.tasks.renewal_reminders",
        "schedule": crontab(hour=8, minute=5),
    },
    "sla-sweep": {
        "task": "sla.tasks.sweep",
        "schedule": SLA_SWEEP_INTERVAL_SECONDS,
        "options": {"expires": 10},
    },
    "notifications-deliver-due": {
        "task": "notifications.tasks.deliver_due",
        "schedule": 10.0,
        "options": {"expires": 30},
    },
    # Month close: early every day (Asia/Shanghai, CELERY_TIMEZONE) last month is closed if it
    # is not yet, and re-judged while the 5-day reporting windows of its last outages can lapse.
    "settlement-close-due": {
        "task": "settlement.tasks.close_due",
        "schedule": crontab(hour=0, minute=20),
    },
    # Mail backups (seed 002 §7): judge yesterday per platform before the month close at 00:20.
    "mailservice-backup-days": {
        "task": "mailservice.tasks.backup_days_daily",
        "schedule": crontab(hour=0, minute=10),
    },
    "settlement-stale-statements": {
        "task": "settlement.tasks.issue_stale_statements",
        "schedule": crontab(minute=40),
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
    # Traffic statistics: claim and poll the switch ports whose 5-minute slot is due.
    "traffic-poll-due": {
        "task": "traffic.tasks.poll_due",
        "schedule": 15.0,
        "options": {"expires": 60},
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
    # Installation orders: start the C3 clocks that waited for a working-day calendar year, and
    # open any order a failed listener left missing.
    "orders-reconcile": {
        "task": "orders.tasks.reconcile",
        "schedule": crontab(minute=7),
        "options": {"expires": 1800},
    },
    # Anti-spam: each new message to the abuse address becomes a spam case (E4); and the cases
    # a failed listener left unopened, or whose calendar year was missing, are repaired.
    "abuse-read-mailbox": {
        "task": "abuse.tasks.read_mailbox",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "abuse-reconcile": {
        "task": "abuse.tasks.reconcile",
        "schedule": crontab(minute=17),
        "options": {"expires": 1800},
    },
}

# --- Notifications ------------------------------------------------------------------------
# Real SMTP by default: `make run` starts a local mail catcher and points EMAIL_HOST/EMAIL_PORT at
# it; a deployment points them at its mail relay. The console backend delivers nothing, and a
# notice "sent" through it is recorded as not delivered (notifications/channels/email.py).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
# The service mailbox (seed 002 §9: customer service by e-mail), read by IMAP by
# `manage.py servicedesk_mailbox_read` and the beat task. No host: nothing is read.
# Security: "none" (plain, for a local server), "starttls" or "ssl".
SERVICEDESK_IMAP_HOST = env.str("SERVICEDESK_IMAP_HOST", default="")
SERVICEDESK_IMAP_PORT = env.int("SERVICEDESK_IMAP_PORT", default=993)
SERVICEDESK_IMAP_SECURITY = env.str("SERVICEDESK_IMAP_SECURITY", default="ssl")
SERVICEDESK_IMAP_USER = env.str("SERVICEDESK_IMAP_USER", default="")
SERVICEDESK_IMAP_PASSWORD = env.str("SERVICEDESK_IMAP_PASSWORD", default="")
SERVICEDESK_IMAP_FOLDER = env.str("SERVICEDESK_IMAP_FOLDER", default="INBOX")
# The address customers write to; replies are sent from it so theirs come back to the mailbox.
SERVICEDESK_ADDRESS = env.str("SERVICEDESK_ADDRESS", default="service@slaportal.test")
# How long after resolution the customer may reopen a request themselves (staff: any time).
SERVICEDESK_REOPEN_DAYS = env.int("SERVICEDESK_REOPEN_DAYS", default=14)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="sla-portal@localhost")

# One gateway backend per channel; e-mail always goes through Django's mail backend. Unset: the
# channel has no gateway and its notices end "not delivered: no gateway configured" (a system
# check lists such channels). "notifications.channels.webhook.WebhookBackend" posts JSON to
# NOTIFICATION_WEBHOOK_URL; "notifications.channels.logging.LoggingBackend" only logs (development).
NOTIFICATION_BACKENDS = {
    "sms": env.str("NOTIFY_SMS_BACKEND", default=""),
    "phone": env.str("NOTIFY_PHONE_BACKEND", default=""),
    "pager": env.str("NOTIFY_PAGER_BACKEND", default=""),
    "fax": env.str("NOTIFY_FAX_BACKEND", default=""),
}
NOTIFICATION_WEBHOOK_URL = env.str("NOTIFICATION_WEBHOOK_URL", default="")
NOTIFICATION_WEBHOOK_TOKEN = env.str("NOTIFICATION_WEBHOOK_TOKEN", default="")
NOTIFICATION_WEBHOOK_TIMEOUT = env.float("NOTIFICATION_WEBHOOK_TIMEOUT", default=10.0)
# The sender loop (manage.py send_notifications): a row being sent is leased for this long; a
# sender that dies mid-send frees it when the lease runs out (at once, if it ran on this host).
# Longer than the slowest gateway conversation (EMAIL_TIMEOUT, NOTIFICATION_WEBHOOK_TIMEOUT).
NOTIFICATION_LEASE_SECONDS = env.float("NOTIFICATION_LEASE_SECONDS", default=30.0)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=3)
# A temporary failure (mail server unreachable, 4xx, gateway 5xx) is tried again after this many
# seconds, then 3x as long, until NOTIFICATION_MAX_ATTEMPTS; then the row ends 'failed'.
NOTIFICATION_RETRY_SECONDS = env.float("NOTIFICATION_RETRY_SECONDS", default=10.0)
NOTIFICATION_SENDER_THREADS = env.int("NOTIFICATION_SENDER_THREADS", default=4)
# Run by the sender loop after each delivery pass and every 5 s (beat runs them too, as the
# second path): the emergency notice moves on to its next channel once a notice failed.
SENDER_FOLLOW_UPS = ["incidents.services.notices_advance"]
# Rows a sender thread leases at a time (each is sent, and its outcome saved, one by one).
NOTIFICATION_CLAIM_BATCH = env.int("NOTIFICATION_CLAIM_BATCH", default=20)
# How often the loops look at the database when nothing wakes them: PostgreSQL wakes them at
# commit (LISTEN/NOTIFY) and this is only a safety net; SQLite has no notifications and polls.
LOOP_SAFETY_POLL_SECONDS = env.float("LOOP_SAFETY_POLL_SECONDS", default=2.0)
LOOP_SQLITE_POLL_SECONDS = env.float("LOOP_SQLITE_POLL_SECONDS", default=0.1)
# /healthz answers 503 when the sweep has not completed an iteration for this long.
HEALTH_SWEEP_MAX_LAG_SECONDS = env.float("HEALTH_SWEEP_MAX_LAG_SECONDS", default=30.0)

PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# The local mail catcher (`manage.py mailcatcher`, started by `make run`): one .eml file per caught
# message in this folder, shown to staff at /runtime/mailbox/ while the folder exists.
MAILCATCHER_DIR = env.str("MAILCATCHER_DIR", default=str(VAR_DIR / "mailcatcher"))
MAILCATCHER_MAX_MESSAGES = env.int("MAILCATCHER_MAX_MESSAGES", default=5000)

# --- Metrics ------------------------------------------------------------------------------
# /metrics (Prometheus): set, scrapers must send "Authorization: Bearer <token>"; unset, only
# clients on the loopback address (not through a proxy) may read it.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a missing, expired or revoked token is a 401 with WWW-Authenticate.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # ?page= / ?page_size= / ?format= out of range are a 400 (slaportal.api_query), not DRF's 404.
    "DEFAULT_PAGINATION_CLASS": "slaportal.api_query.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "slaportal.api_query.ContentNegotiation",
    # Documents the error responses (one error body) on every operation.
    "DEFAULT_SCHEMA_CLASS": "slaportal.api.AutoSchema",
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
        "MailSecurityEnum": "monitoring.choices.MailSecurity",
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
        "FacilityEventKindEnum": "incidents.choices.FacilityEventKind",
        "FacilityScopeEnum": "incidents.choices.FacilityScope",
        "ReliefActionEnum": "incidents.choices.ReliefAction",
        "CheckKindEnum": "monitoring.choices.CheckKind",
        "OrderStateEnum": "orders.choices.OrderState",
        "ChecklistCodeEnum": "orders.choices.ChecklistCode",
        "PauseReasonEnum": "orders.choices.PauseReason",
        "VerdictEnum": "settlement.choices.Verdict",
        "CloseTriggerEnum": "settlement.choices.CloseTrigger",
        "ProbeMethodEnum": "monitoring.choices.ProbeMethod",
        "TargetStateEnum": "monitoring.choices.TargetState",
        "NotificationChannelEnum": "notifications.choices.Channel",
        "NotificationStatusEnum": "notifications.choices.Status",
        "ContactChannelEnum": "customers.choices.ContactChannel",
        "LockoutKindEnum": "accounts.choices.LockoutKind",
        "TokenStateEnum": "accounts.choices.TokenState",
        "PlatformEventKindEnum": "mailservice.choices.PlatformEventKind",
        "BackupKindEnum": "mailservice.choices.BackupKind",
        "BackupStatusEnum": "mailservice.choices.BackupStatus",
        "ReportOriginEnum": "mailservice.choices.ReportOrigin",
        "AccountLockKindEnum": "mailservice.choices.AccountLockKind",
        "SpamCaseKindEnum": "abuse.choices.CaseKind",
        "SpamCaseSourceEnum": "abuse.choices.CaseSource",
        "SpamCaseStateEnum": "abuse.choices.CaseState",
        "SpamVerdictEnum": "abuse.choices.Verdict",
        "SpamStepCodeEnum": "abuse.choices.StepCode",
        "SpamEvidenceKindEnum": "abuse.choices.EvidenceKind",
        "PublicationStateEnum": "abuse.choices.PublicationState",
        "ProvisioningStateEnum": "orders.choices.ProvisioningState",
        "ProvisioningItemCodeEnum": "orders.choices.ProvisioningItemCode",
        "ServiceRequestKindEnum": "servicedesk.choices.RequestKind",
        "ServiceRequestChannelEnum": "servicedesk.choices.RequestChannel",
        "ServiceRequestStateEnum": "servicedesk.choices.RequestState",
        "ServiceRequestEntryKindEnum": "servicedesk.choices.EntryKind",
        "ServiceChangeStateEnum": "servicedesk.choices.ChangeState",
        "SnmpVersionEnum": "traffic.choices.SnmpVersion",
        "SnmpAuthProtocolEnum": "traffic.choices.AuthProtocol",
        "SnmpPrivProtocolEnum": "traffic.choices.PrivProtocol",
        "GraphRangeEnum": "traffic.choices.GraphRange",
    },
}

# --- Logging ------------------------------------------------------------------------------
# One format and one clock (ISO-8601 with offset, TIME_ZONE) in every process: the web
# (gunicorn with -c slaportal/gunicorn_conf.py), the Celery worker and beat (slaportal/celery.py
# hands them this LOGGING) and management commands. 4xx lines carry no traceback; secrets in
# URLs are masked (slaportal/logging.py).
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), time_zone=TIME_ZONE)
# Celery must not replace the root logger's handler with its own format (belt and braces: the
# setup_logging receiver in slaportal/celery.py already stops Celery configuring logging).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Machine-room visits (机房开放) ------------------------------------------------------------
VISIT_LEAD_TIME_HOURS = env.float("VISIT_LEAD_TIME_HOURS", default=24.0)
VISIT_NO_SHOW_GRACE_MINUTES = env.float("VISIT_NO_SHOW_GRACE_MINUTES", default=60.0)
VISIT_ID_RETENTION_DAYS = env.float("VISIT_ID_RETENTION_DAYS", default=90.0)
# Check-in earlier than the booked entry minus this, or from the booked exit plus this on, needs
# an explicit override with a reason at the door.
SLAPORTAL_CHECKIN_WINDOW_MINUTES = env.int("SLAPORTAL_CHECKIN_WINDOW_MINUTES", default=120)

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
