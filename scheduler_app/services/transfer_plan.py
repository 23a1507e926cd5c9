"""What importing a transfer document would do, without saving: the plan.

Each entry is matched to a task here by module, task type and name, among the
tasks the importing user may see, and compared with it field by field
(:data:`FIELDS`); calendars are matched by name. :mod:`.transfer` applies
the plan through the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from scheduler_app import policy, schedules, task_configs
from scheduler_app.models import BlackoutCalendar, ScheduledTask, run_options
from scheduler_app.quoting import quote_input
from scheduler_app.services import transfer_edges, transfer_schema
from scheduler_app.services.transfer_export import EXPORTED_STATUSES, task_entry
from scheduler_app.services.transfer_report import Change

#: Run options an entry carries, passed to the services as they are.
OPTIONS = run_options.NAMES
#: Entry keys compared and applied, in display order (config is compared key by key).
FIELDS = (
    *schedules.ARGUMENTS,
    *OPTIONS,
    "enabled",
    "paused",
    "calendars",
    "config",
)


def _label(entry: dict[str, Any]) -> str:
    return transfer_schema.entry_label(entry)


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
                if new.get(key) == task_configs.SECRET_MASK:
                    continue  # masked: the target's secret is kept
                secret = old.get(key) == task_configs.SECRET_MASK
                if secret and new.get(key) != target.config.get(key):
                    changes[f"config.{key}"] = [task_configs.SECRET_MASK, task_configs.SECRET_MASK]
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
    return plan_with_warnings(data, user=user, allow_unknown_keys=allow_unknown_keys)[0]


def plan_with_warnings(
    data: Any, *, user: Any, allow_unknown_keys: bool
) -> tuple[list[Change], list[str]]:
    """:func:`plan`, and the warnings to show with it (owners an import does not apply)."""
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
                    % {"owner": quote_input(owner)}
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
                % {"owner": quote_input(owner)}
            )
    return problems
