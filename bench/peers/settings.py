"""Settings of the peers' project: each peer's Django app and a model the bodies insert into.

The database comes from PEERS_DB_* (bench_peers.py sets them). Everything else is Django's
and each peer's default, CONN_MAX_AGE too unless PEERS_CONN_MAX_AGE is set.
"""

import os

SECRET_KEY = "bench-peers"  # noqa: S105 - a benchmark project, never served
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django_apscheduler",
    "procrastinate.contrib.django",
    "bench.peers.hits",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("PEERS_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("PEERS_DB_PORT", "5432"),
        "USER": os.environ.get("PEERS_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("PEERS_DB_PASSWORD", ""),
        "NAME": os.environ.get("PEERS_DB_NAME", "scheduler_bench_peers"),
    }
}
if os.environ.get("PEERS_CONN_MAX_AGE"):  # bench_peers.py --conn-max-age; Django's default is 0
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["PEERS_CONN_MAX_AGE"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
