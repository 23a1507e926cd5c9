"""Export schedules as JSON and import them elsewhere, with a dry-run diff.

A task is matched across environments by module, task type and name (ids
differ between databases). Secrets (a task type's ``secret_fields``) are
exported masked; an import keeps the target task's stored secret, and
refuses, naming the task and field, when there is none to keep (a new task,
or a target task without that secret): put the value in the file instead.
Blackout calendars the tasks use travel with them; a calendar that already
exists in the target is kept as it is.

Everything is applied through :mod:`scheduler_app.services` (permissions,
validation, history), in one transaction: all or nothing. A dry run applies
it the same way and rolls back, so it reports the errors a real import
would meet.

Example::

    data = transfer.export_schedules(user=None, module="reports")
    report = transfer.import_schedules(data, user=admin, dry_run=True)
    print(report.text())
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _

from scheduler_app import schedules, services, task_configs
from scheduler_app.exceptions import NotRegistered
from scheduler_app.registry import registry
from scheduler_app.services import calendars, transfer_edges, transfer_schema
from scheduler_app.services.transfer_export import export_schedules, task_entry
from scheduler_app.services.transfer_plan import FIELDS, OPTIONS, plan, plan_with_warnings
from scheduler_app.services.transfer_report import Change, ImportReport
from scheduler_app.services.transfer_schema import FORMAT, VERSION

__all__ = [
    "FIELDS",
    "FORMAT",
    "VERSION",
    "Change",
    "ImportReport",
    "export_schedules",
    "import_schedules",
    "plan",
    "task_entry",
]


# --- applying ----------------------------------------------------------------------


def import_schedules(
    data: Any, *, user: Any, dry_run: bool = False, allow_unknown_keys: bool = False
) -> ImportReport:
    """Create or update the exported tasks as ``user`` (None: the system); all or nothing.

    Raises ValidationError listing every problem, each line naming the entry
    (``tasks[3] module.type “name”``) and the field. Nothing is saved when one
    entry is refused; a dry run checks everything the same way and rolls back.
    """
    changes, warnings = plan_with_warnings(data, user=user, allow_unknown_keys=allow_unknown_keys)
    errors: list[str] = []
    with transaction.atomic():
        for change in changes:
            try:
                # A savepoint each: a refused entry leaves the others' checks running.
                with transaction.atomic():
                    _apply(change, user)
            except (ValidationError, PermissionDenied) as exc:
                errors.append(str(_fail(change, _message(exc)).message))
        # Edges last: every task they name exists by now.
        for change in changes:
            if change.kind == "task" and "edges" in change.entry and change.action != "unchanged":
                try:
                    with transaction.atomic():
                        source = transfer_edges.find_task(change.entry, user)
                        transfer_edges.apply(source, change.entry["edges"], user)
                except (ValidationError, PermissionDenied) as exc:
                    errors.append(str(_fail(change, _message(exc)).message))
        if errors:
            raise ValidationError(transfer_schema.summarise(errors))
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(changes, dry_run=dry_run, applied=not dry_run, warnings=warnings)


def _fail(change: Change, message: str) -> ValidationError:
    return ValidationError(f"{change.where} {change.label}: {message}", code="import")


def _apply(change: Change, user: Any) -> None:
    if change.kind == "calendar" and change.action == "create":
        _create_calendar(change.entry, user)
    elif change.kind == "task" and change.action == "create":
        _create_task(change.entry, user)
    elif change.kind == "task" and change.action == "update":
        _update_task(change, user)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("Permission denied.")


def _create_calendar(entry: dict[str, Any], user: Any) -> None:
    periods = []
    for p in entry.get("periods") or []:  # checked by transfer_schema: dates and times parse
        start, end = parse_date(p["start_date"]), parse_date(p["end_date"])
        assert start is not None and end is not None
        periods.append(
            calendars.Period(
                start,
                end,
                parse_time(p["start_time"]) if p.get("start_time") else None,
                parse_time(p["end_time"]) if p.get("end_time") else None,
                p.get("label") or "",
            )
        )
    calendars.create_calendar(
        user=user,
        name=entry["name"],
        description=entry.get("description") or "",
        timezone=entry.get("timezone") or "",
        periods=periods,
    )


def _task_class(entry: dict[str, Any]) -> Any:
    try:
        return registry.get_task_type(entry.get("module") or "", entry.get("task_type") or "")
    except NotRegistered as exc:
        raise ValidationError(str(exc), code="unknown_task_type") from None


def _masked_secrets(task_cls: Any, config: dict[str, Any]) -> list[str]:
    return [key for key in task_cls.secret_fields if config.get(key) == task_configs.SECRET_MASK]


def _owner(entry: dict[str, Any]) -> Any:
    """The named owner (the plan checked it exists), or None: the importing user owns the task."""
    username = entry.get("owner")
    if not username:
        return None
    user_model = get_user_model()
    return user_model._default_manager.get(**{user_model.USERNAME_FIELD: username})


def _schedule_arguments(entry: dict[str, Any]) -> dict[str, Any]:
    """The services' schedule arguments of an entry (checked by transfer_schema)."""
    run_at, interval = entry.get("run_at"), entry.get("interval")
    arguments = {key: entry.get(key) or None for key in schedules.ARGUMENTS}
    arguments["schedule_type"] = entry.get("schedule_type") or ""
    arguments["run_at"] = parse_datetime(run_at) if isinstance(run_at, str) else run_at
    arguments["interval"] = tuple(interval) if interval else None
    return arguments


def _create_task(entry: dict[str, Any], user: Any) -> None:
    task_cls = _task_class(entry)
    config = dict(entry.get("config") or {})
    masked = _masked_secrets(task_cls, config)
    if masked:
        raise ValidationError(
            f"the secret {', '.join(masked)} was exported masked and there is no task here to keep it "
            f"from; put the value into the file's config to import this task.",
            code="masked_secret",
        )
    options = {k: entry[k] for k in OPTIONS if k in entry}
    task = services.schedule(
        user=user,
        module=entry["module"],
        task_type=entry["task_type"],
        config=config,
        name=entry["name"],
        owner=_owner(entry),
        calendars=entry.get("calendars") or (),
        **_schedule_arguments(entry),
        **options,
    )
    if entry.get("enabled") is False:
        services.update(task, user=user, enabled=False)
    if entry.get("paused"):
        services.pause(task, user=user)


def _update_task(change: Change, user: Any) -> None:
    entry, target = change.entry, change.target
    assert target is not None
    task_cls = _task_class(entry)
    updates: dict[str, Any] = {}
    names = set(change.fields)
    if names & set(schedules.ARGUMENTS):
        updates.update(_schedule_arguments(entry))
    for name in (*OPTIONS, "enabled", "calendars"):
        if name in names:
            updates[name] = entry[name]
    if any(n.startswith("config.") for n in names):
        config = dict(entry.get("config") or {})
        missing = [
            k for k in _masked_secrets(task_cls, config) if target.config.get(k) in (None, "")
        ]
        if missing:
            raise ValidationError(
                f"the secret {', '.join(missing)} was exported masked and the task here has none to "
                f"keep; put the value into the file's config.",
                code="masked_secret",
            )
        updates["config"] = config  # masked values keep the stored secret (services.update)
    if updates:
        services.update(target, user=user, **updates)
    if "paused" in names:
        if entry.get("paused"):
            services.pause(target, user=user)
        else:
            services.resume(target, user=user)
