"""Print the crontab line that runs this project's scheduler every minute."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a crontab line for this project (install it with `crontab -e`)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--log", default=None, help="File to append the scheduler's output to.")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        manage = Path(sys.argv[0]).resolve()
        if manage.name != "manage.py":
            base = Path(getattr(settings, "BASE_DIR", Path.cwd()))
            manage = base / "manage.py"
        workdir = manage.parent
        log = options["log"] or str(workdir / "var" / "scheduler.log")
        env = (
            f"DJANGO_SETTINGS_MODULE={shlex.quote(os.environ.get('DJANGO_SETTINGS_MODULE', ''))} "
            if os.environ.get("DJANGO_SETTINGS_MODULE")
            else ""
        )
        # Several schedulers may overlap safely (claims are exactly-once), so no flock is needed.
        self.stdout.write(
            f"* * * * * cd {shlex.quote(str(workdir))} && {env}{shlex.quote(sys.executable)} "
            f"{shlex.quote(str(manage))} runscheduler --verbosity 1 >> {shlex.quote(log)} 2>&1"
        )
