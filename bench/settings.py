"""Benchmark settings: the demo project plus the bench module. Needs DATABASE_URL."""

import importlib.util

from project.settings import *  # noqa: F403
from project.settings import SCHEDULER, env

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]  # noqa: F405
# As a site runs in production, and as the peers' benchmark settings do: with DEBUG on,
# Django keeps and times every query (a tenth of a millisecond or more per statement).
DEBUG = env.bool("DEBUG", default=False)
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Knobs a benchmark run may turn (defaults as shipped).
if env("SCHEDULER_BATCH_SIZE", default=""):
    SCHEDULER = {**SCHEDULER, "BATCH_SIZE": int(env("SCHEDULER_BATCH_SIZE"))}
for _key in ("EXECUTION", "TASKS_BACKEND", "TASKS_QUEUE", "WAKE"):
    if env(f"SCHEDULER_{_key}", default=""):
        SCHEDULER = {**SCHEDULER, _key: env(f"SCHEDULER_{_key}")}

# The Tasks-framework hand-off to RQ workers (bench_rq.py): django-tasks-rq on Redis.
# django_rq (its rqworker command) only where that benchmark runs: a site that does not
# hand runs to RQ does not install it, and the other benchmarks time whole processes.
if env.bool("BENCH_RQ", default=False):
    INSTALLED_APPS += ["django_rq"]
RQ_QUEUES = {"bench": {"URL": env("RQ_REDIS_URL", default="redis://127.0.0.1:6379/13")}}
TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["bench"]},
}

# The hand-off to Celery workers (bench_celery.py): django-tasks-celery, Redis as the
# broker. Only where that benchmark runs (its checks import Celery, which `manage.py
# check` of bench_idle.py would time), and only where it is installed (Django 6).
if env.bool("BENCH_CELERY", default=False) and importlib.util.find_spec("django_tasks_celery"):
    TASKS["celery"] = {
        "BACKEND": "django_tasks_celery.CeleryBackend",
        "QUEUES": ["bench"],
        "OPTIONS": {"CELERY_APP": "project.celery.app"},
    }
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/14")
    CELERY_TASK_IGNORE_RESULT = True  # the bodies' rows are the results
