"""Change scheduled tasks: check a change in full, then apply it, or refuse it whole."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from scheduler_app import policy, schedules, task_configs
from scheduler_app.models import AuditAction, MisfirePolicy, ScheduledTask, TaskStatus, run_options
from scheduler_app.services import audit, chains
from scheduler_app.services import calendars as blackout_calendars
from scheduler_app.services.arguments import check_arguments
from scheduler_app.services.scheduling import apply_schedule, storable_config
from scheduler_app.services.steps import (
    bounded_errors,
    denied,
    locked,
    resolve_now,
    sync_instance,
    transition,
)
from scheduler_app.services.validation import (
    build_schedule,
    check_choice,
    check_option,
    clean_tags,
    resolve_task_type,
)

# Fields a caller may change with update(); module, type, owner and is_system are fixed.
EDITABLE_FIELDS = {
    "name",
    "config",
    *schedules.ARGUMENTS,
    *run_options.NAMES,
    run_options.ENABLED,
    "calendars",
    "on_success",
}


@dataclass
class _Update:
    """An update checked in full and applied in memory, not yet saved."""

    before: dict[str, Any]
    calendars: list[Any] | None
    chained: list[ScheduledTask] | None


#: Statuses of a task whose schedule has ended (the engine will not run it again).
ENDED = frozenset({TaskStatus.SUCCESS, TaskStatus.FAILED, TaskStatus.CANCELLED})
#: Ended statuses an update may bring back with ``resume=True`` (cancelled is for good).
RESUMABLE = frozenset({TaskStatus.SUCCESS, TaskStatus.FAILED})


@bounded_errors
def update(
    task: ScheduledTask,
    *,
    user: Any,
    now: dt.datetime | None = None,
    resume: bool = False,
    **changes: Any,
) -> ScheduledTask:
    """Change editable fields; a changed schedule is re-validated and next_run recomputed.

    module_id, task_type, owner, is_system, status and the run fields are not
    editable: naming one is a ValidationError. A new config needs the task
    type's required permissions for the editor too. Everything is checked
    before anything is written: a refused update changes nothing. ``task``
    is refreshed in place from the saved row and returned.

    An ended task (succeeded, failed, cancelled) stays ended: no change revives or
    reschedules it (a new schedule is stored, nothing is planned). ``resume=True``
    makes a succeeded or failed task pending again on its (new) schedule, counted
    from now; a cancelled task is never resumed (schedule a new task).
    """
    now = resolve_now(now)
    with transaction.atomic():
        fresh = locked(task)
        prepared = _prepare_update(fresh, user=user, now=now, changes=changes, resume=resume)
        fresh.updated_by = user
        fresh.save()
        changed = audit.diff(
            prepared.before, audit.snapshot(fresh), secrets=audit.secret_keys(fresh)
        )
        if prepared.calendars is not None:
            changed.update(_set_calendars(fresh, prepared.calendars))
        if prepared.chained is not None:
            changed.update(_set_chain(fresh, prepared.chained, user))
        if changed:
            audit.record(fresh, AuditAction.EDITED, user=user, changes=changed, at=now)
    return sync_instance(task, fresh)


@bounded_errors
def validate_update(
    task: ScheduledTask,
    *,
    user: Any,
    now: dt.datetime | None = None,
    resume: bool = False,
    **changes: Any,
) -> None:
    """Raise what :func:`update` would raise for these changes; write nothing.

    For forms that must show a refusal on their fields before they save.
    """
    try:
        fresh = ScheduledTask.objects.get(pk=task.pk)
    except ScheduledTask.DoesNotExist:
        raise ValidationError(_("This task no longer exists."), code="gone") from None
    _prepare_update(fresh, user=user, now=resolve_now(now), changes=changes, resume=resume)


def _prepare_update(
    fresh: ScheduledTask,
    *,
    user: Any,
    now: dt.datetime,
    changes: dict[str, Any],
    resume: bool = False,
) -> _Update:
    if user is not None and not policy.can_edit(user, fresh):
        raise denied(_("You may not edit this task."))
    forbidden = set(changes) - EDITABLE_FIELDS
    if forbidden:
        raise ValidationError(
            {f: _("This field cannot be changed.") for f in sorted(forbidden)},
            code="not_editable",
        )
    check_arguments(changes)
    if not isinstance(resume, bool):
        raise ValidationError({"resume": _("Give True or False.")}, code="invalid")
    if resume and fresh.status not in RESUMABLE:
        raise ValidationError(
            {
                # On the input that asked for it: the form's and the API's field.
                "resume": _(
                    "Only a task that has succeeded or failed is resumed with a change; "
                    "a paused task is resumed on its own, a cancelled one not at all."
                )
            },
            code="not_resumable",
        )
    chained = (
        chains.resolve(user, changes["on_success"] or (), task=fresh)
        if "on_success" in changes
        else None
    )
    calendars = (
        blackout_calendars.resolve(changes["calendars"] or ()) if "calendars" in changes else None
    )
    before = audit.snapshot(fresh)
    _apply_changes(fresh, changes, user=user, now=now, resume=resume)
    return _Update(before=before, calendars=calendars, chained=chained)


def _set_chain(
    task: ScheduledTask, chained: list[ScheduledTask], user: Any
) -> dict[str, list[Any]]:
    # Success edges to tasks the user may not view were neither shown to them nor can be
    # named by them (resolve() refuses them): they stay, and the change is told without them.
    current = chains.chained_ids(task)
    old = chains.viewable_ids(current, user)
    new = sorted(t.pk for t in chained)
    if old == new:
        return {}
    chains.set_chain(task, chained, untouched=[pk for pk in current if pk not in old])
    return {"on_success": [old, new]}


def _apply_changes(
    task: ScheduledTask, changes: dict[str, Any], *, user: Any, now: dt.datetime, resume: bool
) -> None:
    task_cls = resolve_task_type(task.module_id, task.task_type)
    if "config" in changes:
        merged = task_configs.merge_secrets(task_cls, task.config, changes["config"] or {})
        cleaned = task_configs.clean_config(task_cls, merged)
        if user is not None and not policy.has_required_permissions(user, task_cls, cleaned):
            raise denied(_("You may not use this configuration."))
        task.config = storable_config(cleaned)
    _apply_schedule_change(task, changes, now=now, resume=resume)
    if "name" in changes:
        task.name = (changes["name"] or "").strip() or task.name
    if "priority" in changes:
        task.priority = check_option(run_options.PRIORITY, changes["priority"])
    if "max_retries" in changes:
        task.max_retries = check_option(run_options.MAX_RETRIES, changes["max_retries"])
    if "timeout" in changes:
        task.timeout = check_option(run_options.TIMEOUT, changes["timeout"])
    if "allow_overlap" in changes:
        task.allow_overlap = changes["allow_overlap"]
    if "enabled" in changes:
        task.enabled = changes["enabled"]
    if "tags" in changes:
        task.tags = clean_tags(changes["tags"])
    if "misfire_policy" in changes:
        task.misfire_policy = check_choice(
            "misfire_policy", changes["misfire_policy"], MisfirePolicy.values
        )
    if "misfire_grace" in changes:
        grace = changes["misfire_grace"]
        task.misfire_grace = (
            None if grace in (None, "") else check_option(run_options.MISFIRE_GRACE, grace)
        )


def _apply_schedule_change(
    task: ScheduledTask, changes: dict[str, Any], *, now: dt.datetime, resume: bool
) -> None:
    """A changed schedule, or a resume: the only ways an update touches next_run and status."""
    current = task.schedule.arguments()
    given = {
        key: changes[key]
        for key in schedules.ARGUMENTS
        if key in changes and changes[key] != current.get(key)
    }
    sched = None
    if given:
        # What is not given stays as it is.
        arguments = {**current, **given}
        schedule_type = arguments.pop("schedule_type")
        same = build_schedule(schedule_type, **arguments, now=now, check_past=False)
        # The same schedule written another way (text for a datetime, "15 minutes" for a
        # pair) is no change: nothing to reschedule, and a past run time is not refused.
        if same != task.schedule:
            sched = build_schedule(schedule_type, **arguments, now=now)
    if sched is not None and task.status in ENDED and not resume:
        # An edit must never revive an ended task: the new schedule is kept (it is what
        # a resume would use) but nothing is planned, and the status stays.
        for column, value in sched.columns().items():
            setattr(task, column, value)
        return
    if resume:
        # Back to pending on the (new) schedule, counted from now.
        apply_schedule(task, sched or task.schedule.validate(now), now)
        transition(task, TaskStatus.PENDING)
    elif sched is not None:
        apply_schedule(task, sched, now)


def _set_calendars(task: ScheduledTask, wanted: list[Any]) -> dict[str, list[Any]]:
    """Attach exactly these blackout calendars; the audit change, if any."""
    old = sorted(task.calendars.values_list("name", flat=True))
    task.calendars.set(wanted)
    new = [c.name for c in wanted]
    return {"calendars": [old, new]} if old != new else {}
