"""Settings for rectify.

Every value that differs between a laptop and production is read from the environment through
the typed helpers in ``rectify.env``. The defaults are embedded so that a new user can run the
app with SQLite, a filesystem Celery broker and a file email backend: no server is needed.
The README lists every variable.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from rectify.env import (
    SettingError,
    env_bool,
    env_float,
    env_int,
    env_int_list,
    env_list,
    env_str,
    env_time,
    env_time_range,
    env_weights,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RECTIFY_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise SettingError(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=true for development)"
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A form sent without a valid token shows the app's 页面已过期 page (with its top bar).
CSRF_FAILURE_VIEW = "tracker.views.errors.csrf_failure"
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "tracker.apps.RectifyAdminConfig",  # django.contrib.admin, with tracker.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "tracker",
    "rectify.apps.AxesConfig",  # django-axes: login throttling and lockout
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tracker.middleware.SessionIdleMiddleware",
    "tracker.middleware.ExplicitLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a refused (locked out) login into the lockout page, in the request's language.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rectify.urls"
WSGI_APPLICATION = "rectify.wsgi.application"
ASGI_APPLICATION = "rectify.asgi.application"

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
                "tracker.context_processors.navigation",
            ],
        },
    },
]

# Database: a SQLite file under var/ by default; postgres://user@host:port/name in production.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'rectify.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Transactions take the write lock when they begin (IMMEDIATE), so two writers queue on the
    # busy timeout instead of one failing with "database is locked" when it upgrades a read lock
    # (two reminder sweeps at once, the web server beside a worker); WAL lets readers go on
    # while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif "postgresql" in DATABASES["default"]["ENGINE"] and env_bool("DB_PREPARED_STATEMENTS", True):
    # Server-side parameters ($1) and prepared statements: a page's queries are the same
    # statements with other ids, and PostgreSQL then plans each once per connection instead of
    # on every request (the task page's 8-table join took ~4 ms to plan, ~0.5 ms to run). Turn
    # off behind a transaction-pooling PgBouncer, which cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=env_int("DB_PREPARE_THRESHOLD", 2)
    )
if "postgresql" in DATABASES["default"]["ENGINE"] and not env_bool("DB_JIT", False):
    # PostgreSQL's JIT compiles the dashboard's grouped scans before running them: on these
    # machines that took 1.6 s of a 2.1 s query that runs in 0.5 s without it. Off by default.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (_options.get("options", "") + " -c jit=off").strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Django's own says "too short" in English under zh-hans: this one words it in Chinese.
    {"NAME": "rectify.accounts.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling and lockout (django-axes; rectify/accounts.py), the same for the workspace
# and the admin login: a username is locked after LOGIN_FAILURE_LIMIT failed logins from any
# address, an address after LOGIN_ADDRESS_FAILURE_LIMIT failures across usernames; the lock
# lasts LOGIN_COOLOFF_MINUTES after the last counted failure (0: until an administrator
# releases it, admin → 登录保护 → access attempts, or `manage.py axes_reset_username NAME`).
# Attempts refused while locked do not extend the lock; a successful login clears that
# username's failures. Behind a reverse proxy the address is read from X-Forwarded-For,
# TRUSTED_PROXIES hops from the right (the entry the nearest trusted proxy appended).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 30)
for _name in ("LOGIN_FAILURE_LIMIT", "LOGIN_ADDRESS_FAILURE_LIMIT"):
    if globals()[_name] < 1:
        raise SettingError(f"{_name} must be at least 1")
if LOGIN_COOLOFF_MINUTES < 0:
    raise SettingError("LOGIN_COOLOFF_MINUTES must be 0 (no expiry) or more")
_behind_proxy = env_bool("SECURE_PROXY_SSL_HEADER", False)
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 1 if _behind_proxy else 0)
AUTHENTICATION_BACKENDS = [
    "rectify.accounts.LoginThrottleBackend",  # first: refuses a locked username or address
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "rectify.accounts.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_COOLOFF_MINUTES) if LOGIN_COOLOFF_MINUTES else None
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "rectify.accounts.client_address"
AXES_USERNAME_CALLABLE = "rectify.accounts.attempted_username"
AXES_LOCKOUT_CALLABLE = "rectify.accounts.lockout_response"
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tracker:task_list"
LOGOUT_REDIRECT_URL = "login"
# Sessions end after this much inactivity: tracker.middleware.SessionIdleMiddleware pushes the
# expiry forward at most once every SESSION_REFRESH_SECONDS (not one write per request).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_REFRESH_SECONDS = min(60, SESSION_COOKIE_AGE // 10)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS. Secure cookies mean the site is served over HTTPS (a login over plain HTTP could not
# keep its session), so the redirect to HTTPS and HSTS follow SECURE_COOKIES unless set: on in
# production, off with DEBUG (`make run` on http://127.0.0.1) and in the test settings.
# `manage.py check --deploy --fail-level WARNING` passes with DEBUG=false, a SECRET_KEY of 50+
# characters and ALLOWED_HOSTS. Behind nginx, SECURE_PROXY_SSL_HEADER=true trusts its
# X-Forwarded-Proto (nginx must set it: proxy_set_header X-Forwarded-Proto $scheme).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SESSION_COOKIE_SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading puts the domain into browsers' built-in HTTPS lists, a decision for the domain's
# owner (and of no use on a host name of an internal network): off unless asked for, and the
# check that only asks whether it was considered (security.W021) is then answered.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _behind_proxy else None
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # evidence is only downloaded through a permission-checked view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email: SMTP when EMAIL_HOST is set, otherwise one .eml file per message under var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "rectify <noreply@rectify.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL / CELERY_BROKER_URL is set, otherwise kombu's filesystem transport,
# so a real worker and beat run on a laptop with no server.
REDIS_URL = env_str("REDIS_URL", "")

# Cache (dashboard figures and pages, sessions): one cache shared by every gunicorn worker, so
# a figure computed by one worker serves them all. CACHE_URL: redis://… (RedisCache), file:///path (FileBasedCache)
# or locmem:// (one per process). Default: REDIS_URL when set, else files under var/cache/.
CACHE_URL = env_str("CACHE_URL", REDIS_URL or f"file://{VAR_DIR / 'cache'}")
if CACHE_URL.startswith(("redis://", "rediss://")):
    _cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
elif CACHE_URL.startswith("file://"):
    _cache = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": CACHE_URL.removeprefix("file://"),
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
elif CACHE_URL.startswith("locmem://"):
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
else:
    raise SettingError(f"CACHE_URL must start with redis://, file:// or locmem://: {CACHE_URL!r}")
# Keys carry the database name: two databases (a benchmark, a demo) never share figures.
CACHES = {"default": {**_cache, "KEY_PREFIX": str(DATABASES["default"].get("NAME", ""))}}
# Sessions are read from that shared cache and written through to the database (one query less
# per request). Not with a per-process memory cache: a session ended in one worker would live
# on in another's copy.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHE_URL.startswith("locmem://")
    else "django.contrib.sessions.backends.cached_db"
)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    # kombu's filesystem transport expects its folders to exist; its exchange table goes there
    # too (kombu's default is "control" in the current folder: the repository root).
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
_sweep_hour, _sweep_minute = env_time("REMINDER_SWEEP_TIME", "08:00")
CELERY_BEAT_SCHEDULE = {
    # The dashboard's figures are judged per day (tracker.figures): rolled just after midnight.
    "nightly-dashboard-figures": {
        "task": "tracker.tasks.roll_figures",
        "schedule": crontab(hour=0, minute=1),
    },
    "daily-reminder-sweep": {
        "task": "tracker.tasks.daily_sweep",
        "schedule": crontab(hour=_sweep_hour, minute=_sweep_minute),
    },
    "hourly-reminder-catch-up": {
        "task": "tracker.tasks.catch_up_sweep",
        "schedule": crontab(minute=env_int("REMINDER_CATCH_UP_MINUTE", 17)),
    },
    # Result files of background ledger jobs (tracker.ledger_jobs) older than a day go.
    "hourly-ledger-job-purge": {
        "task": "tracker.tasks.purge_ledger_jobs",
        "schedule": crontab(minute=43),
    },
    "weekly-supervisor-summary": {
        "task": "tracker.tasks.weekly_summary",
        "schedule": crontab(hour=_sweep_hour, minute=_sweep_minute, day_of_week="mon"),
    },
}

# The REST API (tracker.api, mounted at /api/; OpenAPI schema at /api/schema/, docs at
# /api/docs/). Clients authenticate with a per-user token (``Authorization: Token <key>``) or,
# for the browsable docs, the login session. Lists answer API_PAGE_SIZE items a page (a client
# may ask for up to API_MAX_PAGE_SIZE with ?page_size=) and never count the whole result: each
# page says only whether a next one exists. Throttle rates are "<requests>/<second|minute|
# hour|day>", per user for authenticated requests and per address for anonymous ones, counted
# in the shared cache (CACHE_URL).
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200)
if not 1 <= API_PAGE_SIZE <= API_MAX_PAGE_SIZE:
    raise SettingError("API_PAGE_SIZE must be between 1 and API_MAX_PAGE_SIZE")
API_THROTTLE_USER = env_str("API_THROTTLE_USER", "3600/hour")
API_THROTTLE_ANON = env_str("API_THROTTLE_ANON", "60/hour")
for _name in ("API_THROTTLE_USER", "API_THROTTLE_ANON"):
    _count, _, _period = globals()[_name].partition("/")
    if not _count.isdigit() or _period not in (
        "second",
        "minute",
        "hour",
        "day",
        "s",
        "m",
        "h",
        "d",
    ):
        raise SettingError(f"{_name}={globals()[_name]!r} is not a rate like 3600/hour")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.api.tokens.DigestTokenAuthentication",  # tokens kept as digests
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_ANON, "user": API_THROTTLE_USER},
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.NextPagePagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tracker.api.errors.exception_handler",
    "NUM_PROXIES": TRUSTED_PROXIES,  # the anonymous throttle's address, as the login lockout's
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "rectify API",
    "DESCRIPTION": "巡视巡察整改:检查、问题、整改任务、看板与整改操作。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "tracker.choices.TaskStatus",
        "CloseoutStatusEnum": "tracker.choices.CloseoutStatus",
        "ExtensionStatusEnum": "tracker.choices.ExtensionStatus",
    },
}

# Domain rules. Offices differ, so each rule is a setting with the common practice as default.
RECTIFY = {
    # The rectification report is due this many months after feedback (巡视工作条例: two months).
    "RECTIFICATION_PERIOD_MONTHS": env_int("RECTIFICATION_PERIOD_MONTHS", 2),
    # 长期坚持 tasks report progress this often; a report is "due" when the last one is older.
    "LONG_TERM_REPORT_DAYS": env_int("LONG_TERM_REPORT_DAYS", 90),
    # Warning lights: yellow when something falls due within this many days.
    "LAMP_YELLOW_DAYS": env_int("LAMP_YELLOW_DAYS", 10),
    # Red light from this many overdue tasks; yellow also for 基本完成 past its deadline.
    "LAMP_RED_OVERDUE": env_int("LAMP_RED_OVERDUE", 1),
    "LAMP_YELLOW_BASIC_LATE": env_bool("LAMP_YELLOW_BASIC_LATE", True),
    # Close-out (申请销号) rules where offices differ: a 基本完成 task may be put forward with a
    # stated reason (else only 已完成); every measure must be done or marked not applicable.
    "CLOSEOUT_ALLOW_BASIC": env_bool("CLOSEOUT_ALLOW_BASIC", True),
    "CLOSEOUT_REQUIRE_MEASURES": env_bool("CLOSEOUT_REQUIRE_MEASURES", True),
    # How long the counts of a past as-of day and the completion trend's past days are cached
    # (they no longer change; a rebuild of the aggregates starts them afresh). Today's figures
    # are never cached: they are read from the figure tables on each request.
    "DASHBOARD_CACHE_SECONDS": env_int("DASHBOARD_CACHE_SECONDS", 300),
    # Reminder tiers, in days before (green, yellow) or after (escalated) the deadline.
    "REMINDER_GREEN_DAYS": env_int("REMINDER_GREEN_DAYS", 20),
    "REMINDER_YELLOW_DAYS": env_int("REMINDER_YELLOW_DAYS", 10),
    "REMINDER_ESCALATE_DAYS": env_int("REMINDER_ESCALATE_DAYS", 30),
    "REMINDER_WORKING_DAYS": env_bool("REMINDER_WORKING_DAYS", False),
    "REMINDER_FALLBACK_EMAIL": env_str("REMINDER_FALLBACK_EMAIL", ""),
    "REMINDER_BATCH_SIZE": env_int("REMINDER_BATCH_SIZE", 200),
    "REMINDER_MAX_ATTEMPTS": env_int("REMINDER_MAX_ATTEMPTS", 5),
    # A claimed digest whose sender died is taken over by the next run after this many seconds;
    # a sender stops and releases its batch before its own lease runs out.
    "REMINDER_LEASE_SECONDS": env_int("REMINDER_LEASE_SECONDS", 900),
    # The daily sweep's wall-clock time: the hourly catch-up never plans a day before it.
    "REMINDER_SWEEP_AT": (_sweep_hour, _sweep_minute),
    # Retry after a temporary SMTP failure: this many seconds, doubled on each further attempt.
    "REMINDER_RETRY_SECONDS": env_int("REMINDER_RETRY_SECONDS", 300),
    # A digest lists at most this many tasks per tier (the counts stay exact) and links the rest.
    "REMINDER_DIGEST_MAX_ITEMS": env_int("REMINDER_DIGEST_MAX_ITEMS", 30),
    # Each "sent" mark waits for the disk flush (off: a DB server crash may resend ~0.6 s).
    "REMINDER_DURABLE_MARK": env_bool("REMINDER_DURABLE_MARK", False),
    # Messenger channels (企业微信, 钉钉, webhooks; set per unit or person in the admin) keep
    # quiet in this local-time range, which may pass midnight ("off" for none), and on
    # non-working days (chinese-calendar's holidays and 调休) unless turned off: a message due
    # then waits for the next allowed moment. Email is not held back.
    "REMINDER_QUIET_HOURS": env_time_range("REMINDER_QUIET_HOURS", "22:00-08:00"),
    "REMINDER_QUIET_NON_WORKDAYS": env_bool("REMINDER_QUIET_NON_WORKDAYS", True),
    # Seconds to wait for a robot or webhook to answer; a timeout is retried like a 5xx.
    "REMINDER_CHANNEL_TIMEOUT": env_int("REMINDER_CHANNEL_TIMEOUT", 10),
    # A robot message lists at most this many tasks per tier (robots cap a message's length).
    "REMINDER_CHANNEL_MAX_ITEMS": env_int("REMINDER_CHANNEL_MAX_ITEMS", 10),
    # Unit scoring (考核, tracker/scoring.py): what each figure takes off the 100 points.
    "SCORE_WEIGHTS": env_weights(
        "SCORE_WEIGHTS",
        {"rate": 40, "days": 0.5, "returned": 2, "extension": 1, "recheck": 5, "ladder": 5},
    ),
    # 签收: a task given to a unit by a person waits for the unit to sign for it; unsigned after
    # this many working days (chinese-calendar) it joins the reminders (待签收) and the dashboard.
    "ACK_WORKING_DAYS": env_int("ACK_WORKING_DAYS", 3),
    # The 督办 ladder (督办通知书, 提醒书, 告诫书, 问责书): days overdue from which each rung is
    # proposed to supervisors (a missed reply deadline proposes the next rung at once); the
    # working days a unit has to reply; the number prefix before 〔year〕n号 (e.g. "开整督");
    # the issuer printed under the body (default: the organization's 整改办).
    "LADDER_DAYS": env_int_list("LADDER_DAYS", "7,14,30,60", count=4),
    "LADDER_REPLY_WORKING_DAYS": env_int("LADDER_REPLY_WORKING_DAYS", 5),
    "LADDER_NUMBER_PREFIX": env_str("LADDER_NUMBER_PREFIX", ""),
    "LADDER_ISSUER": env_str("LADDER_ISSUER", ""),
    # The contact line of published notices (整改进展情况的通报), e.g. "联系电话:0769-12345678".
    "NOTICE_CONTACT": env_str("NOTICE_CONTACT", ""),
    # Evidence uploads (佐证材料).
    "EVIDENCE_MAX_BYTES": env_int("EVIDENCE_MAX_MB", 20) * 1024 * 1024,
    # Spreadsheet uploads (the ledger): refused before they are parsed when what they unpack to
    # is past these bounds (uncompressed bytes in all and per zip member, rows, columns, cell
    # length; Excel's own cell limit is 32,767 characters). tracker/spreadsheet.py checks them.
    "XLSX_MAX_UNCOMPRESSED_BYTES": env_int("XLSX_MAX_UNCOMPRESSED_MB", 150) * 1024 * 1024,
    "XLSX_MAX_ROWS": env_int("XLSX_MAX_ROWS", 200_000),
    "XLSX_MAX_COLUMNS": env_int("XLSX_MAX_COLUMNS", 50),
    "XLSX_MAX_CELL_CHARS": env_int("XLSX_MAX_CELL_CHARS", 32767),
    # A ledger export of more tasks than this, or an upload of more rows, runs as a background
    # job (tracker/ledger_jobs.py) with a progress page, so no request outlasts a worker's
    # timeout; smaller ones answer at once, as before.
    "LEDGER_SYNC_ROWS": env_int("LEDGER_SYNC_ROWS", 5000),
    # 屡巡屡犯: a problem of a later inspection whose title is at least this similar (0-1,
    # tracker/similarity.py) to one an earlier inspection of the same organization fed back is
    # linked to it as a likely repeat.
    "REPEAT_SIMILARITY": env_float("REPEAT_SIMILARITY", 0.6),
}
if not 0 < RECTIFY["REPEAT_SIMILARITY"] <= 1:
    raise SettingError(f"REPEAT_SIMILARITY={RECTIFY['REPEAT_SIMILARITY']!r} is not in (0, 1]")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # axes logs every login at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}

if not DEBUG:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
