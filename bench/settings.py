"""Benchmark settings: the demo project plus the bench module. Needs DATABASE_URL."""

from project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False}
