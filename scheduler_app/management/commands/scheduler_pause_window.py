"""Pause every task of a module (or of all modules) until a time; list or end pause windows."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from scheduler_app.management.acting import (
    AuditedCommand,
    acting_user,
    add_as_user_argument,
    object_id,
    one_line,
)
from scheduler_app.models import PauseWindow
from scheduler_app.quoting import quote_input
from scheduler_app.services import pause_windows

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_when(value: str) -> dt.datetime:
    """An ISO date-time; without an offset it is read in the site's time zone."""
    parsed = parse_datetime(value.strip()) if value else None
    if parsed is None:
        raise CommandError(
            f"Not a date and time: {quote_input(value)!r} (use e.g. 2026-12-24T18:00+01:00)."
        )
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def parse_duration(value: str) -> dt.timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value or "")
    if not match:
        raise CommandError(f"Not a duration: {quote_input(value)!r} (use e.g. 30m, 2h, 1d, 1w).")
    return dt.timedelta(**{UNITS[match[2]]: int(match[1])})


class Command(AuditedCommand):
    help = (
        "Pause all tasks of a module (--module) or of every module until --until or for --for, "
        "with a --reason; they resume by themselves at the end. --list shows open windows, "
        "--end ID ends one now."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--module", default="", help="Module id; omit to pause every module.")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--until", help="End of the window (ISO date-time).")
        group.add_argument("--for", dest="duration", help="Length of the window: 30m, 2h, 1d, 1w.")
        parser.add_argument("--starts", help="Start of the window (ISO date-time; default now).")
        parser.add_argument("--reason", default="", help="Why the tasks are paused (required).")
        parser.add_argument("--list", action="store_true", help="List the windows not ended yet.")
        parser.add_argument("--end", type=object_id, metavar="ID", help="End this window now.")
        add_as_user_argument(parser)

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        user = acting_user(options["as_user"])
        if options["list"]:
            return self.list_windows(user)
        try:
            if options["end"] is not None:
                return self.end(options["end"], user)
            return self.open(options, user)
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(one_line(exc)) from None

    def list_windows(self, user) -> None:  # noqa: ANN001
        windows = pause_windows.viewable_windows(
            user, PauseWindow.objects.filter(lifted_at__isnull=True)
        ).order_by("ends_at")
        if not windows:
            self.stdout.write("No open pause windows.")
        for w in windows:
            self.stdout.write(
                f"#{w.pk} {w.module_id or '(every module)'} "
                f"{w.starts_at:%Y-%m-%d %H:%M} → {w.ends_at:%Y-%m-%d %H:%M} UTC, "
                f"{w.tasks.count()} task(s): {w.reason}"
            )

    def end(self, pk: int, user) -> None:  # noqa: ANN001
        # A window the user may not see is reported exactly like a missing one.
        window = pause_windows.viewable_windows(user).filter(pk=pk).first()
        if window is None:
            raise CommandError(
                f"No pause window with id {pk}"
                + (" that you may see." if user is not None else ".")
            )
        resumed = pause_windows.lift(window, user=user)
        self.stdout.write(f"Ended pause window #{pk}; resumed {resumed} task(s).")

    def open(self, options: dict, user) -> None:  # noqa: ANN001
        now = timezone.now()
        starts = parse_when(options["starts"]) if options["starts"] else None
        if options["until"]:
            until = parse_when(options["until"])
        elif options["duration"]:
            until = (starts or now) + parse_duration(options["duration"])
        else:
            raise CommandError("Say until when: --until DATE-TIME or --for 2h.")
        window = pause_windows.open_window(
            user=user,
            module_id=options["module"] or None,
            until=until,
            reason=options["reason"],
            starts_at=starts,
            now=now,
        )
        scope = f"module {window.module_id}" if window.module_id else "every module"
        if window.starts_at > now:
            self.stdout.write(
                f"Pause window #{window.pk} for {scope} opens at "
                f"{window.starts_at:%Y-%m-%d %H:%M} UTC and ends at "
                f"{window.ends_at:%Y-%m-%d %H:%M} UTC."
            )
        else:
            self.stdout.write(
                f"Paused {window.tasks.count()} task(s) of {scope} until "
                f"{window.ends_at:%Y-%m-%d %H:%M} UTC (pause window #{window.pk})."
            )
