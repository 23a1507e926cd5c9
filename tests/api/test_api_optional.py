"""The HTTP API is optional: scheduler_app works, and imports, without Django REST framework."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    # As if neither package were installed: importing them raises ImportError.
    sys.modules["rest_framework"] = None
    sys.modules["drf_spectacular"] = None
    import django
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
            "django.contrib.sessions", "django.contrib.messages", "guardian", "scheduler_app",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend",
                                 "guardian.backends.ObjectPermissionBackend"],
        ROOT_URLCONF="scheduler_app.urls", USE_TZ=True, SECRET_KEY="x",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    import scheduler_app
    skipped = []
    for info in pkgutil.walk_packages(scheduler_app.__path__, "scheduler_app."):
        if info.name.startswith("scheduler_app.api"):
            skipped.append(info.name)
            continue
        importlib.import_module(info.name)
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    call_command("check", "--tag", "scheduler", "--fail-level", "ERROR")
    try:
        importlib.import_module("scheduler_app.api.urls")
    except ImportError as exc:
        print("api needs:", exc)
    print("ok", len(skipped))
    """
)


def test_scheduler_app_imports_and_migrates_without_rest_framework():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1].startswith("ok ") and int(lines[-1].split()[1]) > 5
    assert any(line.startswith("api needs:") for line in lines)


def test_the_api_settings_are_checked(settings):
    from scheduler_app.checks import check_settings

    def ids(**api_settings) -> set[str]:  # noqa: ANN003
        settings.SCHEDULER = {**settings.SCHEDULER, **api_settings}
        return {message.id for message in check_settings()}

    assert ids() == set()
    assert ids(API_THROTTLE_RATES=None, API_MAX_PAGE_SIZE=10) == set()
    assert ids(API_THROTTLE_RATES={"read": "10/minute", "write": None}) == set()
    for rates in ("100/minute", {"read": "often"}, {"admin": "1/s"}, {"write": "0/day"}):
        assert "scheduler_app.E040" in ids(API_THROTTLE_RATES=rates), rates
    assert "scheduler_app.E013" in ids(API_PAGE_SIZE=0)
    assert "scheduler_app.E013" in ids(API_MAX_BODY="1MB")
