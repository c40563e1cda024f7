"""Settings shared by every environment. Configuration comes only from the environment.

Every variable read here is documented in `.env.example` and the README. With no `DATABASE_URL` and no `REDIS_URL`
LoanTrack runs embedded: SQLite in WAL mode and Celery's filesystem broker, both under `var/`.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VERSION = "0.1.0"

DEBUG = env.bool("DEBUG", default=False)
# The development default key is only ever used with DEBUG on; production.py refuses to start without a real one.
SECRET_KEY = env("SECRET_KEY", default="") or "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "simple_history",
    "axes",
    # Project apps in layer order (DESIGN.md section 2), lowest first. Templates in templates/ and catalogs in
    # locale/ already win over third-party ones, so these need not come first.
    "core",
    "accounts",
    "notifications",
    "applications",
    "postloan",
    "followups",
    "dashboard",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in user's stored language wins over cookie and browser.
    "accounts.middleware.UserLanguageMiddleware",
    # A borrower reaches only the portal, and their session ends after PORTAL_IDLE_SECONDS without a request.
    "portal.middleware.BorrowerBoundaryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

# `make bench` (docs/performance.md): count queries per request and serve the B1 baseline view. Off everywhere else.
LOANTRACK_BENCH = env.bool("LOANTRACK_BENCH", default=False)
if LOANTRACK_BENCH:
    MIDDLEWARE = ["core.bench.QueryCountMiddleware", *MIDDLEWARE]

ROOT_URLCONF = "loantrack.urls"
WSGI_APPLICATION = "loantrack.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------------
if env("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", default="") or str(VAR_DIR / "loantrack.sqlite3"),
            "OPTIONS": {
                # WAL lets the web process read while the worker writes; IMMEDIATE avoids "database is locked"
                # on read-then-write transactions; the timeout waits out short write bursts.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": env("SQLITE_TEST_PATH", default="") or str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "loantrack",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers an unacknowledged task after this long; it must exceed the longest task time limit.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "loantrack"}}
    CELERY_QUEUE_DIR = VAR_DIR / "celery" / "queue"
    # kombu's filesystem transport fails every publish when its folder is missing (a fresh clone, `rm -rf var`).
    CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # The filesystem transport reads and writes one folder: producers and consumers meet there.
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # Exchange bindings; without this kombu writes a `control/` folder into the working directory.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }

CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "notifications.tasks.*": {"queue": "notifications"},
    "*.tasks.sweep_*": {"queue": "sweeps"},
}
# A request must never hang on a broker that is down: try briefly, then let the outbox sweep catch up.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
DJANGO_CELERY_BEAT_TZ_AWARE = True

# Periodic tasks are rows in django-celery-beat's tables, written idempotently after every migrate
# (core.periodic.sync_periodic_tasks). Later apps add their sweeps here: the one list of what runs when.
# Each entry: name -> task, crontab fields (Asia/Shanghai), queue.
PERIODIC_TASKS = {
    "notifications: send pending outbox messages": {
        "task": "notifications.tasks.sweep_outbox",
        "crontab": {"minute": "*"},
        "queue": "notifications",
    },
    "applications: expire approvals not contracted in 30 days": {
        "task": "applications.tasks.sweep_expired_approvals",
        "crontab": {"minute": "20", "hour": "0"},
        "queue": "sweeps",
    },
    # Hourly, so a missed run is caught up within the hour; today's reminders wait for 08:00 (quiet hours).
    "postloan: repayment reminders": {
        "task": "postloan.tasks.sweep_reminders",
        "crontab": {"minute": "5"},
        "queue": "sweeps",
    },
    # After midnight, so the business date is the new day; it also runs the approvals' expiry (harmless twice).
    "postloan: daily overdue and classification sweep": {
        "task": "postloan.tasks.sweep_daily",
        "crontab": {"minute": "30", "hour": "0"},
        "queue": "sweeps",
    },
    # After the overdue sweep (00:30), so it also catches an overdue episode whose overdue call was lost.
    "followups: plan missing follow-ups": {
        "task": "followups.tasks.sweep_missing_followups",
        "crontab": {"minute": "0", "hour": "1"},
        "queue": "sweeps",
    },
    # Business days only (the service skips the others); once per officer and day, so a rerun sends nothing.
    "followups: officers' morning digest": {
        "task": "followups.tasks.sweep_digest",
        "crontab": {"minute": "30", "hour": "8"},
        "queue": "sweeps",
    },
    "followups: escalate follow-ups more than 3 days late": {
        "task": "followups.tasks.sweep_late_followups",
        "crontab": {"minute": "35", "hour": "8"},
        "queue": "sweeps",
    },
    # Monday morning, the week that ended on Sunday; once per manager and ISO week.
    "dashboard: weekly portfolio summary to managers": {
        "task": "dashboard.tasks.sweep_weekly_summary",
        "crontab": {"minute": "0", "hour": "8", "day_of_week": "1"},
        "queue": "sweeps",
    },
    # Exports: resend jobs whose message was lost, end dead ones, delete files older than 7 days.
    "dashboard: exports housekeeping": {
        "task": "dashboard.tasks.sweep_exports",
        "crontab": {"minute": "*/10"},
        "queue": "sweeps",
    },
    # The dashboards' default views (head office and each branch), so managers never wait for them (dashboard.figures).
    "dashboard: refresh the default figures": {
        "task": "dashboard.tasks.refresh_dashboard_figures",
        "crontab": {"minute": "*/10"},
        "queue": "sweeps",
    },
    # The loan and application lists' counts per status: fold the rows their triggers append (core.status_counts).
    "core: compact the counts per status": {
        "task": "core.tasks.compact_status_counts",
        "crontab": {"minute": "*/10"},
        "queue": "sweeps",
    },
    # Imports: send again the dry runs and imports whose message was lost or whose worker died.
    "dashboard: resume lost imports": {
        "task": "dashboard.tasks.sweep_stale_imports",
        "crontab": {"minute": "*/10"},
        "queue": "sweeps",
    },
}

# How long a dashboard tab's figures are kept (dashboard.figures): longer than the 10 minutes between refreshes of the
# default views. 0 computes them on every view.
DASHBOARD_FIGURES_SECONDS = env.int("DASHBOARD_FIGURES_SECONDS", default=900)

# --- Authentication -------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes must come first so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with the session's user read together with their branch.
    "accounts.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout: 5 failed sign-ins for one username within 15 minutes lock it for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# The lock ends 15 minutes after the 5th failure, as the sign-in page promises, however often the person retries.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "loantrack.lockout.locked_out"
AXES_VERBOSE = False
# axes.W006 wants the IP address in the lockout key. The lockout is per account on purpose: branch staff share one
# office IP, so an IP lockout would lock out a whole branch because of one person's typos.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # models.W040: SQLite builds loan_overdue_summary_idx without its INCLUDE column; a speed-up for PostgreSQL's
    # overdue summary that the embedded development database does without.
    SILENCED_SYSTEM_CHECKS.append("models.W040")

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # one working day
SESSION_COOKIE_HTTPONLY = True
# Borrowers on the portal: 30 minutes idle (portal.middleware).
PORTAL_IDLE_SECONDS = env.int("PORTAL_IDLE_SECONDS", default=30 * 60)

# --- Internationalisation -------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "loantrack_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Static and uploaded files --------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default="") or str(VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env("MEDIA_ROOT", default="") or str(VAR_DIR / "media")
# Uploaded files are served only through permission-checked views, never from a public URL.
MEDIA_URL = "/media-not-served/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Field encryption -----------------------------------------------------------------------------------------------
# Comma-separated Fernet keys, newest first: new values are encrypted with the first, any of them decrypts (rotation).
DEV_FIELD_ENCRYPTION_KEY = "yZ2dZ6Yh0cZQmF1pV2mJxq3wzq3vXn6y9Ue1v8gqA1o="  # development only; production.py refuses it
FIELD_ENCRYPTION_KEY = [key for key in env.list("FIELD_ENCRYPTION_KEY", default=[]) if key] or [
    DEV_FIELD_ENCRYPTION_KEY
]
# Key for the keyed hash (HMAC-SHA256) stored beside encrypted values for exact lookup. It must never rotate
# with the encryption keys, or every lookup hash would change.
DEV_FIELD_HASH_KEY = "dev-only-field-hash-key"
FIELD_HASH_KEY = env("FIELD_HASH_KEY", default="") or DEV_FIELD_HASH_KEY

# --- Email and SMS --------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="LoanTrack <noreply@loantrack.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SMS_BACKEND = env("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", default="")
SMS_SIGNATURE = env("SMS_SIGNATURE", default="【LoanTrack】")

# Borrowers are messaged only between these local hours (Asia/Shanghai); later messages wait for the morning.
NOTIFY_QUIET_START_HOUR = env.int("NOTIFY_QUIET_START_HOUR", default=21)
NOTIFY_QUIET_END_HOUR = env.int("NOTIFY_QUIET_END_HOUR", default=8)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)
# Per message template, a callable that returns why a queued message is no longer wanted (or ""): checked just
# before sending, the message is cancelled instead.
NOTIFY_CANCEL_CHECKS = {"repayment_reminder": "postloan.reminders.reminder_cancel_reason"}
# Repayment reminders: days from each unpaid installment's due date (negative: before it).
REPAYMENT_REMINDER_OFFSETS = (-7, -3, -1, 0, 1, 3, 7)

# Public address used in links inside emails and SMS.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
