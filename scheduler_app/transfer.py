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

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _

from scheduler_app import calendars, configs, policy, services
from scheduler_app.exceptions import NotRegistered
from scheduler_app.models import BlackoutCalendar, ScheduledTask, TaskStatus
from scheduler_app.registry import registry

FORMAT = "scheduler_app.schedules"
VERSION = 1
#: Finished or cancelled tasks have no schedule to move.
EXPORTED_STATUSES = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.PAUSED)
#: Entry keys compared and applied, in display order (config is compared key by key).
FIELDS = (
    "schedule_type",
    "cron",
    "run_at",
    "interval",
    "event",
    "timezone",
    "priority",
    "max_retries",
    "timeout",
    "allow_overlap",
    "misfire_policy",
    "misfire_grace",
    "tags",
    "enabled",
    "paused",
    "calendars",
    "config",
)
SCHEDULE_FIELDS = ("schedule_type", "cron", "run_at", "interval", "event", "timezone")


# --- export ----------------------------------------------------------------------


def task_entry(task: ScheduledTask) -> dict[str, Any]:
    """One task as exported: stable keys only, secrets masked."""
    return {
        "module": task.module_id,
        "task_type": task.task_type,
        "name": task.name,
        "config": configs.masked_config(task),
        "schedule_type": task.schedule_type,
        "cron": task.cron_expression or "",
        "run_at": task.run_at.isoformat() if task.run_at else None,
        "interval": [task.interval_every, task.interval_unit] if task.interval_every else None,
        "event": task.event_name or "",
        "timezone": task.timezone,
        "priority": task.priority,
        "max_retries": task.max_retries,
        "timeout": task.timeout,
        "allow_overlap": task.allow_overlap,
        "misfire_policy": task.misfire_policy,
        "misfire_grace": task.misfire_grace,
        "tags": list(task.tags or []),
        "enabled": task.enabled,
        "paused": task.status == TaskStatus.PAUSED,
        "calendars": sorted(c.name for c in task.calendars.all()),
        "owner": task.owner.get_username() if task.owner is not None else None,
    }


def _calendar_entry(calendar: BlackoutCalendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "description": calendar.description,
        "timezone": calendar.timezone,
        "periods": [
            {
                "label": p.label,
                "start_date": p.start_date.isoformat(),
                "end_date": p.end_date.isoformat(),
                "start_time": p.start_time.isoformat() if p.start_time else None,
                "end_time": p.end_time.isoformat() if p.end_time else None,
            }
            for p in calendar.periods.all()
        ],
    }


def export_schedules(
    *,
    user: Any,
    module: str | None = None,
    tags: tuple[str, ...] = (),
    task_ids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """The tasks ``user`` may see (all for the system), filtered, as a JSON-ready dict."""
    qs: Any = ScheduledTask.objects.filter(status__in=EXPORTED_STATUSES, is_system=False)
    if user is not None:
        qs = policy.viewable_queryset(user, qs)
    if module:
        qs = qs.filter(module_id=module)
    for tag in tags:
        qs = qs.with_tag(tag)
    if task_ids:
        qs = qs.filter(pk__in=task_ids)
    tasks = list(
        qs.select_related("owner")
        .prefetch_related("calendars")
        .order_by("module_id", "task_type", "name", "pk")
    )
    used = {c.pk: c for t in tasks for c in t.calendars.all()}
    cals = (
        BlackoutCalendar.objects.filter(pk__in=list(used))
        .prefetch_related("periods")
        .order_by("name")
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "calendars": [_calendar_entry(c) for c in cals],
        "tasks": [task_entry(t) for t in tasks],
    }


# --- the diff ----------------------------------------------------------------------


@dataclass
class Change:
    """What the import does to one task or calendar."""

    action: str  # "create", "update", "unchanged", "kept" (calendars)
    kind: str  # "task" or "calendar"
    label: str
    fields: dict[str, list[Any]] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)
    target: ScheduledTask | None = None


@dataclass
class ImportReport:
    changes: list[Change]
    dry_run: bool
    applied: bool = False

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def text(self) -> str:
        marks = {"create": "+", "update": "~", "unchanged": "=", "kept": "="}
        lines = []
        for change in self.changes:
            line = (
                f"{marks.get(change.action, '?')} {change.action:<9} {change.kind} {change.label}"
            )
            if change.fields:
                line += ": " + "; ".join(
                    f"{name}: {_show(old)} → {_show(new)}"
                    for name, (old, new) in change.fields.items()
                )
            lines.append(line)
        would = "would be " if self.dry_run else ""
        tasks = [c for c in self.changes if c.kind == "task"]
        cals = [c for c in self.changes if c.kind == "calendar"]
        lines.append(
            f"Tasks: {sum(c.action == 'create' for c in tasks)} {would}created, "
            f"{sum(c.action == 'update' for c in tasks)} {would}updated, "
            f"{sum(c.action == 'unchanged' for c in tasks)} unchanged. "
            f"Calendars: {sum(c.action == 'create' for c in cals)} {would}created, "
            f"{sum(c.action == 'kept' for c in cals)} kept as they are."
            + (" Dry run: nothing was saved." if self.dry_run else "")
        )
        return "\n".join(lines)


def _show(value: Any) -> str:
    return "—" if value in (None, "", []) else repr(value) if isinstance(value, str) else str(value)


def _label(entry: dict[str, Any]) -> str:
    return f"{entry.get('module')}.{entry.get('task_type')} “{entry.get('name')}”"


def _fail(entry: dict[str, Any], message: str) -> ValidationError:
    return ValidationError(f"{_label(entry)}: {message}", code="import")


def _check_document(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(
            _("This is not a schedules export (expected format “%(format)s”).")
            % {"format": FORMAT},
            code="format",
        )
    if data.get("version") != VERSION:
        raise ValidationError(
            _(
                "Schedules export version %(version)r is not supported "
                "(this version reads %(supported)s)."
            )
            % {"version": data.get("version"), "supported": VERSION},
            code="version",
        )
    if not isinstance(data.get("tasks"), list) or not isinstance(data.get("calendars", []), list):
        raise ValidationError(_("The export has no list of tasks."), code="format")


def _match(entry: dict[str, Any]) -> ScheduledTask | None:
    found = list(
        ScheduledTask.objects.filter(
            module_id=entry.get("module"),
            task_type=entry.get("task_type"),
            name=entry.get("name"),
            status__in=EXPORTED_STATUSES,
        ).prefetch_related("calendars")[:2]
    )
    if len(found) > 1:
        raise _fail(entry, "several tasks here have this module, type and name; rename one first.")
    return found[0] if found else None


def _compare(entry: dict[str, Any], target: ScheduledTask) -> dict[str, list[Any]]:
    current = task_entry(target)
    changes: dict[str, list[Any]] = {}
    for name in FIELDS:
        if name == "config":
            old, new = current["config"], entry.get("config") or {}
            for key in sorted(set(old) | set(new)):
                if new.get(key) == configs.SECRET_MASK:
                    continue  # masked: the target's secret is kept
                secret = old.get(key) == configs.SECRET_MASK
                if secret and new.get(key) != target.config.get(key):
                    changes[f"config.{key}"] = [configs.SECRET_MASK, configs.SECRET_MASK]
                elif not secret and old.get(key) != new.get(key):
                    changes[f"config.{key}"] = [old.get(key), new.get(key)]
        elif name in entry and _normal(name, entry[name]) != _normal(name, current[name]):
            changes[name] = [current[name], entry[name]]
    return changes


def _normal(name: str, value: Any) -> Any:
    if name == "run_at" and value:
        parsed = parse_datetime(value) if isinstance(value, str) else value
        return parsed.astimezone(dt.UTC) if parsed else value
    if name in ("tags", "calendars"):
        return sorted(value or [])
    if name == "interval" and value:
        return list(value)
    return value


def plan(data: Any) -> list[Change]:
    """What importing ``data`` would do, without checking permissions or saving."""
    _check_document(data)
    changes: list[Change] = []
    existing = set(
        BlackoutCalendar.objects.filter(
            name__in=[c.get("name") for c in data.get("calendars", []) if isinstance(c, dict)]
        ).values_list("name", flat=True)
    )
    for cal in data.get("calendars", []):
        name = cal.get("name") if isinstance(cal, dict) else None
        if not name:
            raise ValidationError(_("A calendar in the export has no name."), code="format")
        changes.append(
            Change("kept" if name in existing else "create", "calendar", f"“{name}”", entry=cal)
        )
    errors: list[ValidationError] = []
    for entry in data["tasks"]:
        if not isinstance(entry, dict):
            errors.append(
                ValidationError(_("A task in the export is not an object."), code="format")
            )
            continue
        try:
            target = _match(entry)
        except ValidationError as exc:
            errors.append(exc)
            continue
        if target is None:
            changes.append(Change("create", "task", _label(entry), entry=entry))
            continue
        diff = _compare(entry, target)
        changes.append(
            Change(
                "update" if diff else "unchanged",
                "task",
                _label(entry),
                diff,
                entry=entry,
                target=target,
            )
        )
    if errors:
        raise ValidationError(errors)
    return changes


# --- applying ----------------------------------------------------------------------


def import_schedules(data: Any, *, user: Any, dry_run: bool = False) -> ImportReport:
    """Create or update the exported tasks as ``user`` (None: the system); all or nothing.

    Raises ValidationError (every problem, each naming its task) or PermissionDenied.
    """
    changes = plan(data)
    errors: list[ValidationError] = []
    with transaction.atomic():
        for change in changes:
            try:
                if change.kind == "calendar" and change.action == "create":
                    _create_calendar(change.entry, user)
                elif change.kind == "task" and change.action == "create":
                    _create_task(change.entry, user)
                elif change.kind == "task" and change.action == "update":
                    _update_task(change, user)
            except (ValidationError, PermissionDenied) as exc:
                errors.append(
                    _fail(change.entry, _message(exc))
                    if change.kind == "task"
                    else ValidationError(
                        _("Calendar %(name)s: %(error)s")
                        % {"name": change.label, "error": _message(exc)}
                    )
                )
        if errors:
            raise ValidationError(errors)
        if dry_run:
            transaction.set_rollback(True)
    return ImportReport(changes, dry_run=dry_run, applied=not dry_run)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or _("Permission denied.")


def _create_calendar(entry: dict[str, Any], user: Any) -> None:
    periods = []
    for p in entry.get("periods") or []:
        start, end = parse_date(p.get("start_date") or ""), parse_date(p.get("end_date") or "")
        if start is None or end is None:
            raise ValidationError(_("A period has no valid start_date/end_date."), code="format")
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
    return [key for key in task_cls.secret_fields if config.get(key) == configs.SECRET_MASK]


def _owner(entry: dict[str, Any], user: Any) -> Any:
    username = entry.get("owner")
    if not username:
        return None
    owner = (
        get_user_model()
        ._default_manager.filter(**{get_user_model().USERNAME_FIELD: username})
        .first()
    )
    if owner is None or (
        user is not None and not policy.is_module_admin(user, entry.get("module") or "")
    ):
        return None  # the importing user owns it
    return owner


def _schedule_arguments(entry: dict[str, Any]) -> dict[str, Any]:
    run_at = entry.get("run_at")
    interval = entry.get("interval")
    return {
        "schedule_type": entry.get("schedule_type") or "",
        "cron": entry.get("cron") or None,
        "run_at": parse_datetime(run_at) if isinstance(run_at, str) else run_at,
        "interval": tuple(interval) if interval else None,
        "event": entry.get("event") or None,
        "timezone": entry.get("timezone") or None,
    }


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
    options = {
        k: entry[k]
        for k in (
            "priority",
            "max_retries",
            "timeout",
            "allow_overlap",
            "misfire_policy",
            "misfire_grace",
            "tags",
        )
        if k in entry
    }
    task = services.schedule(
        user=user,
        module=entry["module"],
        task_type=entry["task_type"],
        config=config,
        name=entry["name"],
        owner=_owner(entry, user),
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
    if names & set(SCHEDULE_FIELDS):
        updates.update(_schedule_arguments(entry))
    for name in (
        "priority",
        "max_retries",
        "timeout",
        "allow_overlap",
        "misfire_policy",
        "misfire_grace",
        "tags",
        "enabled",
        "calendars",
    ):
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
