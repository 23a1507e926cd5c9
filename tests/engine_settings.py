"""Settings of the scheduler processes the engine tests start.

The test settings, plus SCHEDULER keys taken from ``SCHEDULER_<KEY>``
environment variables (a short lease, a small batch, a lock prefix of the test,
alerts as JSON).
"""

import json
import os

from tests.settings import *  # noqa: F403

_FROM_ENV = {
    "LEASE_SECONDS": int,
    "BATCH_SIZE": int,
    "WORKERS": int,
    "RETRY_BACKOFF_BASE": float,
    "RETRY_JITTER": float,
    "LOCK_PREFIX": str,
    "ALERTS": json.loads,
    "OUTBOUND_ALLOWED_NETWORKS": json.loads,
    "EXECUTION": str,
    "TASKS_BACKEND": str,
    "TASKS_QUEUE": str,
    "WAKE": str,
}
SCHEDULER = {  # noqa: F405
    **SCHEDULER,  # noqa: F405
    **{
        key: cast(os.environ[f"SCHEDULER_{key}"])
        for key, cast in _FROM_ENV.items()
        if f"SCHEDULER_{key}" in os.environ
    },
}

# Celery workers the Celery tests start with CELERY_VISIBILITY_TIMEOUT acknowledge a job
# when it ends (not when it starts), and the broker hands a job that is still not
# acknowledged after that many seconds (a worker died) to another worker.
if os.environ.get("CELERY_VISIBILITY_TIMEOUT"):
    CELERY_TASK_ACKS_LATE = True
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ["CELERY_VISIBILITY_TIMEOUT"]),
        # Look for such jobs every second (by default about every 100 s: every 10th
        # turn of a 10 s timer).
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
