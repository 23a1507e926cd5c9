"""Cron expressions: validation, descriptions, and runs on the wall clock."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduler_app.schedules.wallclock import UTC, field_error, resolve_wall_time

CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


# Stop looking for the next match after this many candidates (e.g. "0 0 30 2 *").
_MAX_CANDIDATES = 2000


# Random ("R") and hashed ("H") cron fields give different times on every
# evaluation; a schedule must be the same each time it is computed.
_NONDETERMINISTIC_CRON = re.compile(r"(^|[\s,/-])[RH]($|[\s,/(-])", re.IGNORECASE)


def normalize_cron(expression: str | None) -> str:
    """Return a validated 5-field cron expression (macros expanded)."""
    from croniter import CroniterBadDateError, croniter

    text = " ".join(str(expression or "").split())
    if not text:
        raise _cron_error(_("Enter a cron expression, e.g. “0 6 * * 1-5”."), "required")
    lowered = text.lower()
    if lowered.startswith("@"):
        if lowered not in CRON_MACROS:
            raise _cron_error(
                _("Unknown cron macro “%(macro)s”. Use one of: %(known)s.")
                % {"macro": text, "known": ", ".join(CRON_MACROS)}
            )
        return CRON_MACROS[lowered]
    fields = text.split(" ")
    if len(fields) != 5:
        raise _cron_error(
            _(
                "A cron expression has 5 fields (minute hour day month weekday); "
                "“%(expr)s” has %(count)d."
            )
            % {"expr": text, "count": len(fields)}
        )
    if _NONDETERMINISTIC_CRON.search(text):
        raise _cron_error(
            _("“%(expr)s” uses random (R) or hashed (H) values; give fixed minutes and hours.")
            % {"expr": text}
        )
    try:
        valid = croniter.is_valid(text)
    except Exception:  # noqa: BLE001 - the parser may raise anything on garbage
        valid = False
    if not valid:
        raise _cron_error(_("“%(expr)s” is not a valid cron expression.") % {"expr": text})
    try:
        croniter(text, dt.datetime(2000, 1, 1)).get_next(dt.datetime)
    except CroniterBadDateError:
        raise _cron_error(
            _("“%(expr)s” never matches a date (e.g. 30 February).") % {"expr": text}
        ) from None
    except Exception:  # noqa: BLE001 - is_valid accepted something the iterator cannot use
        raise _cron_error(
            _("“%(expr)s” is not a valid cron expression.") % {"expr": text}
        ) from None
    return text


def _cron_error(message: str, code: str = "invalid_cron") -> ValidationError:
    return field_error("cron", message, code)


def describe_cron(expression: str) -> str:
    """A human-readable description, e.g. ``At 06:00, Monday through Friday``."""
    from cron_descriptor import Options, get_description

    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    try:
        return get_description(normalize_cron(expression), options)
    except ValidationError:
        raise
    except Exception:  # noqa: BLE001 - description is cosmetic; fall back to the text
        return expression


def cron_runs_after(
    expression: str, tz: ZoneInfo, after: dt.datetime, count: int
) -> list[dt.datetime]:
    """The next ``count`` runs strictly after ``after``, as aware times in ``tz``.

    Iterates on the naive wall clock, then resolves each wall time by the DST
    rule; equal instants (several times in one gap) collapse into one run.
    """
    from croniter import CroniterBadDateError, croniter

    if count <= 0:
        return []
    local_after = after.astimezone(tz)
    # Start one minute back on the wall clock so a slot in the first
    # occurrence of a repeated hour is not missed; results are filtered by instant.
    start = local_after.replace(tzinfo=None, second=0, microsecond=0) - dt.timedelta(minutes=1)
    itr = croniter(expression, start)
    runs: list[dt.datetime] = []
    for _i in range(_MAX_CANDIDATES):
        try:
            naive = itr.get_next(dt.datetime)
        except (CroniterBadDateError, StopIteration):
            break
        instant = resolve_wall_time(naive, tz)
        if instant.astimezone(UTC) <= after.astimezone(UTC):
            continue
        if runs and instant.astimezone(UTC) <= runs[-1].astimezone(UTC):
            continue
        runs.append(instant)
        if len(runs) >= count:
            break
    return runs
