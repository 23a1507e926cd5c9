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
}
SCHEDULER = {  # noqa: F405
    **SCHEDULER,  # noqa: F405
    **{
        key: cast(os.environ[f"SCHEDULER_{key}"])
        for key, cast in _FROM_ENV.items()
        if f"SCHEDULER_{key}" in os.environ
    },
}
