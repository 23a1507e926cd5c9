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
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime, parse_time
from django.utils.translation import gettext as _

from scheduler_app import configs, policy, services
from scheduler_app.exceptions import NotRegistered
from scheduler_app.models import BlackoutCalendar, ScheduledTask
from scheduler_app.registry import registry
from scheduler_app.services import calendars, transfer_edges, transfer_schema
from scheduler_app.services.transfer_export import EXPORTED_STATUSES, export_schedules, task_entry
from scheduler_app.services.transfer_report import Change, ImportReport
from scheduler_app.services.transfer_schema import FORMAT, VERSION

__all__ = [
    "FORMAT",
    "VERSION",
    "Change",
    "ImportReport",
    "export_schedules",
    "import_schedules",
    "plan",
    "task_entry",
]
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


# --- the diff ----------------------------------------------------------------------


def _label(entry: dict[str, Any]) -> str:
    return transfer_schema.entry_label(entry)


def _fail(change: Change, message: str) -> ValidationError:
    return ValidationError(f"{change.where} {change.label}: {message}", code="import")


def _matches(entries: list[dict[str, Any]], user: Any) -> dict[tuple[str, str, str], list[Any]]:
    """{(module, task type, name): tasks here} for the entries, among those ``user`` may see.

    One query for the whole file. A task the user may not see is not matched:
    the entry then plans a creation and meets the same refusal as one naming
    no task at all, so an import answers alike for a hidden task and a missing one.
    """
    qs: Any = ScheduledTask.objects.filter(
        name__in={e["name"] for e in entries}, status__in=EXPORTED_STATUSES
    )
    if user is not None:
        qs = policy.viewable_queryset(user, qs)
    found: dict[tuple[str, str, str], list[Any]] = {}
    for task in (
        qs.select_related("owner")
        .prefetch_related("calendars", "outgoing_edges__target")
        .order_by("pk")
    ):
        found.setdefault((task.module_id, task.task_type, task.name), []).append(task)
    return found


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
    if "edges" in entry and transfer_edges.normal(entry["edges"]) != transfer_edges.normal(
        current["edges"]
    ):
        changes["edges"] = [current["edges"], entry["edges"]]
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


def plan(data: Any, *, user: Any = None, allow_unknown_keys: bool = False) -> list[Change]:
    """What importing ``data`` as ``user`` would do, without saving; ValidationError if invalid.

    The document is checked against the schema first (:mod:`transfer_schema`);
    unknown keys are refused unless ``allow_unknown_keys``.
    """
    return _plan(data, user=user, allow_unknown_keys=allow_unknown_keys)[0]


def _plan(data: Any, *, user: Any, allow_unknown_keys: bool) -> tuple[list[Change], list[str]]:
    warnings = transfer_schema.check(data, allow_unknown_keys=allow_unknown_keys)
    changes: list[Change] = []
    visible: Any = BlackoutCalendar.objects.all()
    if user is not None:
        visible = policy.viewable_calendars(user, visible)
    entries = data.get("calendars", [])
    existing = set(
        visible.filter(name__in=[c["name"] for c in entries]).values_list("name", flat=True)
    )
    for index, cal in enumerate(entries):
        name = cal["name"]
        changes.append(
            Change(
                "kept" if name in existing else "create",
                "calendar",
                f"“{name}”",
                entry=cal,
                where=f"calendars[{index}]",
            )
        )
    errors: list[str] = []
    matches = _matches(data["tasks"], user)
    for index, entry in enumerate(data["tasks"]):
        where = f"tasks[{index}]"
        found = matches.get((entry["module"], entry["task_type"], entry["name"]), [])
        if len(found) > 1:
            errors.append(
                f"{where} {_label(entry)}: "
                + _("several tasks here have this module, type and name; rename one first.")
            )
            continue
        target = found[0] if found else None
        if target is None:
            changes.append(Change("create", "task", _label(entry), entry=entry, where=where))
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
                where=where,
            )
        )
    errors.extend(_owner_problems(changes, user, warnings))
    if errors:
        raise ValidationError(transfer_schema.summarise(errors))
    return changes, warnings


def _owner_problems(changes: list[Change], user: Any, warnings: list[str]) -> list[str]:
    """Owners of new tasks must exist, and only module admins give a task away (as the services).

    The owner of an existing task never changes through an import (a warning
    says so when the file names another one).
    """
    user_model = get_user_model()
    field_name = user_model.USERNAME_FIELD
    named = {c.entry["owner"] for c in changes if c.kind == "task" and c.entry.get("owner")}
    known = set(
        user_model._default_manager.filter(**{f"{field_name}__in": named}).values_list(
            field_name, flat=True
        )
    )
    problems = []
    for change in changes:
        owner = change.entry.get("owner") if change.kind == "task" else None
        if not owner:
            continue
        where = f"{change.where} {change.label}: owner: "
        if change.target is None and not (
            user is None or policy.can_schedule(user, change.entry["module"])
        ):
            continue  # the services refuse the entry whoever owns it, in their own words
        if change.target is not None:
            current = change.target.owner.get_username() if change.target.owner else None
            if current != owner:
                warnings.append(
                    where
                    + _("“%(owner)s” is not applied; an import never changes the owner.")
                    % {"owner": owner}
                )
        elif (
            user is not None
            and owner != user.get_username()
            and not policy.is_module_admin(user, change.entry["module"])
        ):
            # Refused before the name is looked up: the answer tells nobody which users exist.
            problems.append(
                where
                + _("only a module admin gives a task to another user; remove the owner to own it.")
            )
        elif owner not in known:
            problems.append(
                where
                + _(
                    "no user “%(owner)s” here; create the user, or remove the owner to own it yourself."
                )
                % {"owner": owner}
            )
    return problems


# --- applying ----------------------------------------------------------------------


def import_schedules(
    data: Any, *, user: Any, dry_run: bool = False, allow_unknown_keys: bool = False
) -> ImportReport:
    """Create or update the exported tasks as ``user`` (None: the system); all or nothing.

    Raises ValidationError listing every problem, each line naming the entry
    (``tasks[3] module.type “name”``) and the field. Nothing is saved when one
    entry is refused; a dry run checks everything the same way and rolls back.
    """
    changes, warnings = _plan(data, user=user, allow_unknown_keys=allow_unknown_keys)
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
    return [key for key in task_cls.secret_fields if config.get(key) == configs.SECRET_MASK]


def _owner(entry: dict[str, Any]) -> Any:
    """The named owner (the plan checked it exists), or None: the importing user owns the task."""
    username = entry.get("owner")
    if not username:
        return None
    user_model = get_user_model()
    return user_model._default_manager.get(**{user_model.USERNAME_FIELD: username})


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
