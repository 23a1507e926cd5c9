"""Pause windows: every task of a module (or of all modules) paused until a given time.

Opening a window pauses the module's pending tasks at once and remembers
which ones it paused; at the window's end the scheduler's next pass resumes
exactly those (a task paused by hand before stays paused). A task that was
running when the window opened, or that is created during it, is not paused
but its runs are skipped until the end (logged as skipped, with the reason).

Who may: module admins for their module, scheduler admins for every module
(``policy.can_pause_module``). ``user=None`` is the system.

Example::

    window = pause_windows.open_window(
        user=admin, module_id="reports", until=now + timedelta(hours=2), reason="DB upgrade"
    )
    pause_windows.lift(window, user=admin)  # end it early
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.exceptions import NotRegistered
from scheduler_app.models import AuditAction, PauseWindow, ScheduledTask, TaskStatus, lifecycle, sql
from scheduler_app.registry import registry
from scheduler_app.services import audit

logger = logging.getLogger("scheduler_app.pause_windows")

#: The longest window accepted (longer pauses are what pausing a task is for).
MAX_WINDOW = dt.timedelta(days=366)


def _username(user: Any) -> str:
    return user.get_username() if user is not None else "system"


def viewable_windows(user: Any, queryset: Any = None) -> Any:
    """The windows ``user`` may see: every one for the system and those who view every task,
    otherwise the windows over every module and those of the modules the user administers."""
    qs = queryset if queryset is not None else PauseWindow.objects.all()
    if user is None or policy.can_view_all(user):
        return qs
    return qs.filter(module_id__in=["", *policy.administered_modules(user)])


def _scope(window: PauseWindow) -> Q:
    return Q(module_id=window.module_id) if window.module_id else Q()


def check_window(
    *,
    user: Any,
    module_id: str | None,
    until: dt.datetime | None,
    reason: str,
    starts_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Raise PermissionDenied or ValidationError (by field) for a window that cannot be opened."""
    now = now or timezone.now()
    module_id = (module_id or "").strip()
    if module_id and not registry.is_registered(module_id):
        try:
            registry.get(module_id)
        except NotRegistered as exc:
            raise ValidationError({"module_id": str(exc)}, code="unknown_module") from None
    if user is not None and not policy.can_pause_module(user, module_id or None):
        raise PermissionDenied(
            _("Only administrators of “%(module)s” may pause it.") % {"module": module_id}
            if module_id
            else _("Only scheduler administrators may pause every module.")
        )
    errors: dict[str, str] = {}
    if not (reason or "").strip():
        errors["reason"] = _("Say why the tasks are paused.")
    start = starts_at or now
    if until is None or timezone.is_naive(until):
        errors["ends_at"] = _("Give the end as a date and time with a time zone.")
    elif until <= max(start, now):
        errors["ends_at"] = _("The end of the window must be in the future and after its start.")
    elif until - start > MAX_WINDOW:
        errors["ends_at"] = _("A pause window lasts at most %(days)d days.") % {
            "days": MAX_WINDOW.days
        }
    if errors:
        raise ValidationError(errors, code="invalid")


def open_window(
    *,
    user: Any,
    module_id: str | None,
    until: dt.datetime,
    reason: str,
    starts_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PauseWindow:
    """Pause every pending task of ``module_id`` (None or "": every module) until ``until``.

    With ``starts_at`` in the future the tasks are paused by the first
    scheduler pass after it. Raises PermissionDenied (not a module admin /
    scheduler admin) or ValidationError (unknown module, end in the past, no
    reason).
    """
    now = now or timezone.now()
    check_window(
        user=user, module_id=module_id, until=until, reason=reason, starts_at=starts_at, now=now
    )
    start = starts_at or now
    with transaction.atomic():
        window = PauseWindow.objects.create(
            module_id=(module_id or "").strip(),
            reason=reason.strip()[:300],
            starts_at=start,
            ends_at=until,
            created_by=user,
            created_at=now,
        )
        if start <= now:
            _pause_tasks(window, user, now)
    return window


def _pause_tasks(window: PauseWindow, user: Any, now: dt.datetime) -> int:
    """Pause the window's pending tasks (one UPDATE); remember and audit them."""
    candidates = ScheduledTask.objects.filter(_scope(window), status=TaskStatus.PENDING)
    pks = list(candidates.select_for_update().values_list("pk", flat=True))
    if not pks:
        return 0
    # Compare-and-set: a task claimed meanwhile is left to the slot filter.
    lifecycle.move(
        ScheduledTask.objects.filter(pk__in=pks),
        TaskStatus.PENDING,
        TaskStatus.PAUSED,
        updated_at=now,
    )
    paused = list(ScheduledTask.objects.filter(pk__in=pks, status=TaskStatus.PAUSED))
    window.tasks.add(*paused)
    for task in paused:
        audit.record(
            task,
            AuditAction.PAUSED,
            user=user,
            at=now,
            changes={
                "pause_window": [
                    None,
                    f"until {window.ends_at:%Y-%m-%d %H:%M} UTC: {window.reason}",
                ]
            },
        )
    return len(paused)


def lift(window: PauseWindow, *, user: Any, now: dt.datetime | None = None) -> int:
    """End ``window`` now (early, or at its end) and resume the tasks it paused.

    A task still covered by another open window moves to that window instead.
    Returns the number of tasks resumed.
    """
    from scheduler_app import services

    now = now or timezone.now()
    with transaction.atomic():
        fresh = PauseWindow.objects.select_for_update().get(pk=window.pk)
        if user is not None and not policy.can_pause_module(user, fresh.module_id or None):
            raise PermissionDenied(_("You may not end this pause window."))
        if fresh.lifted_at is not None:
            return 0
        fresh.lifted_at = now
        fresh.lifted_by = _username(user)
        if fresh.ends_at > now:
            fresh.ends_at = now
        fresh.save(update_fields=["lifted_at", "lifted_by", "ends_at"])
        others = list(PauseWindow.objects.active(now).exclude(pk=fresh.pk))
        resumed = 0
        for task in fresh.tasks.filter(status=TaskStatus.PAUSED):
            still = next(
                (w for w in others if not w.module_id or w.module_id == task.module_id), None
            )
            if still is not None:
                still.tasks.add(task)
                continue
            services.resume(task, user=None, now=now)
            resumed += 1
    window.lifted_at, window.lifted_by, window.ends_at = (
        fresh.lifted_at,
        fresh.lifted_by,
        fresh.ends_at,
    )
    return resumed


def start_due(now: dt.datetime) -> int:
    """Pause the tasks of windows opened for a later start that has now come."""
    started = 0
    waiting = (
        PauseWindow.objects.active(now)
        .filter(starts_at__gt=F("created_at"))
        .filter(tasks__isnull=True)
        .distinct()
    )
    for window in waiting:
        with transaction.atomic():
            started += _pause_tasks(window, window.created_by, now)
    return started


def resume_ended(now: dt.datetime | None = None) -> int:
    """Lift every window whose end has come; returns the number of tasks resumed."""
    now = now or timezone.now()
    resumed = 0
    for window in PauseWindow.objects.ended(now).order_by("ends_at"):
        resumed += lift(window, user=None, now=now)
        logger.info("Pause window %s ended; its tasks were resumed.", window.pk)
    return resumed


def before_pass(scheduler_pass: Any) -> None:
    """Pass hook: resume the tasks of ended windows, pause those of windows that began."""
    if not _any_unlifted():  # most passes of most sites: no window at all
        return
    now = getattr(getattr(scheduler_pass, "options", None), "now", None) or timezone.now()
    resume_ended(now)
    start_due(now)


def blocked_slots(rows: list[dict], now: dt.datetime) -> dict[int, str]:
    """Slot filter: skip claimed runs of tasks under an open window (running when it began)."""
    if not _any_active(now):
        return {}
    windows = list(PauseWindow.objects.active(now).values("module_id", "ends_at", "reason"))
    if not windows:
        return {}
    found: dict[int, str] = {}
    for row in rows:
        for window in windows:
            if not window["module_id"] or window["module_id"] == row["module_id"]:
                found[row["id"]] = _("Paused until %(until)s UTC: %(reason)s") % {
                    "until": f"{window['ends_at']:%Y-%m-%d %H:%M}",
                    "reason": window["reason"],
                }
                break
    return found


def _any_unlifted() -> bool:
    """Is any window not lifted yet (to start, open, or ended and not resumed)?"""
    column = sql.columns(PauseWindow, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {sql.table(PauseWindow, connection)} "
            f"WHERE {column['lifted_at']} IS NULL LIMIT 1"
        )
        return cursor.fetchone() is not None


def _any_active(now: dt.datetime) -> bool:
    """Is a window open at ``now``? (``PauseWindow.objects.active``, written out.)

    Asked for every claimed batch, and on most sites no window is open: a statement
    written once costs a tenth of building the query through the ORM each time.
    """
    column = sql.columns(PauseWindow, connection)
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {sql.table(PauseWindow, connection)} "
            f"WHERE {column['lifted_at']} IS NULL "
            f"AND {column['starts_at']} <= %s AND {column['ends_at']} > %s LIMIT 1",
            [at, at],
        )
        return cursor.fetchone() is not None
