"""Benchmark settings: the demo project plus the bench module. Needs DATABASE_URL."""

from project.settings import *  # noqa: F403
from project.settings import SCHEDULER, env

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]  # noqa: F405
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
