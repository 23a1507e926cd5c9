"""Benchmark settings: the demo project plus the bench module. Needs DATABASE_URL."""

from project.settings import *  # noqa: F403
from project.settings import SCHEDULER, env

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Knobs a benchmark run may turn (defaults as shipped).
if env("SCHEDULER_BATCH_SIZE", default=""):
    SCHEDULER = {**SCHEDULER, "BATCH_SIZE": int(env("SCHEDULER_BATCH_SIZE"))}
