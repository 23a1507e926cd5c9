"""Settings of the demo project.

With no environment at all it runs on SQLite and the local-memory cache (the
embedded default). ``DATABASE_URL=postgres://...`` selects PostgreSQL through
psycopg 3 and ``REDIS_URL=redis://...`` selects Redis through django-redis.
"""

from pathlib import Path

import django
import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="demo-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "rest_framework",
    "scheduler_app",
    "scheduler_app.api",
    "scheduler_app.contrib.http",
    "project.reports",
    "project.crm",
    "project.todo",
    "project.marketing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"

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
                "scheduler_app.notifications.context_processors.notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

# SQLite copes with several scheduler processes writing at once: WAL lets
# readers run beside the writer, IMMEDIATE transactions take the write lock up
# front (no deadlock on lock upgrade) and the timeout waits for it.
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    # A file, not memory: the tests start scheduler processes that share it.
    DATABASES["default"]["TEST"] = {
        "NAME": env("SQLITE_TEST_DB", default=str(VAR_DIR / "test_db.sqlite3"))
    }
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="scheduler-demo"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AUTH_PASSWORD_VALIDATORS = []

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Mail goes to files under var/mail unless EMAIL_BACKEND names another backend.
_MAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
_MAIL_DIR = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
if django.VERSION >= (6, 1):
    # Django 6.1 configures mail as MAILERS; EMAIL_BACKEND and EMAIL_FILE_PATH are deprecated.
    MAILERS = {
        "default": {
            "BACKEND": _MAIL_BACKEND,
            "OPTIONS": {"file_path": _MAIL_DIR}
            if _MAIL_BACKEND.endswith(".filebased.EmailBackend")
            else {},
        }
    }
else:
    EMAIL_BACKEND = _MAIL_BACKEND
    EMAIL_FILE_PATH = _MAIL_DIR
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="scheduler@localhost")
# Seconds the demo's report tasks pause per row written: a slow data source, to watch live
# progress on the task page (0: as fast as they go).
REPORTS_ROW_PAUSE = env.float("REPORTS_ROW_PAUSE", default=0.0)

# The marketing demo: where the file channel adapter writes posts, and the site's address
# for the tracked links of A/B test mails.
MARKETING_OUTBOX_DIR = env("MARKETING_OUTBOX_DIR", default=str(VAR_DIR / "marketing"))
MARKETING_BASE_URL = env("MARKETING_BASE_URL", default="http://localhost:8000")

LOGIN_URL = "admin:login"

SCHEDULER = {
    "WORKERS": env.int("SCHEDULER_WORKERS", default=2),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "scheduler_app": {
            "handlers": ["console"],
            "level": env("SCHEDULER_LOG_LEVEL", default="WARNING"),
        },
    },
}

# One process-local cache cannot share overlap locks between scheduler
# processes; the demo says so by running one scheduler unless Redis is set.
SCHEDULER["EXPECT_SINGLE_SCHEDULER"] = not REDIS_URL
