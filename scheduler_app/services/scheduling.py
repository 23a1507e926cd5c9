"""Create and delete scheduled tasks (changing them is :mod:`.updating`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from scheduler_app import conf, policy, schedules, task_configs
from scheduler_app.models import (
    AuditAction,
    MisfirePolicy,
    ScheduledTask,
    run_options,
)
from scheduler_app.providers import SchedulableTask
from scheduler_app.services import audit, chains, sharing
from scheduler_app.services import calendars as blackout_calendars
from scheduler_app.services.arguments import check_arguments, check_json
from scheduler_app.services.steps import (
    bounded_errors,
    denied,
    locked,
    require,
    resolve_now,
    send_after_commit,
    user_pk,
    username_of,
)
from scheduler_app.services.validation import (
    build_schedule,
    check_choice,
    check_option,
    clean_tags,
    resolve_task_type,
)
from scheduler_app.signals import task_scheduled


def apply_schedule(task: ScheduledTask, schedule: schedules.Schedule, now: dt.datetime) -> None:
    for column, value in schedule.columns().items():
        setattr(task, column, value)
    first = schedule.first_run(now, anchor=now)
    task.next_run = first
    task.occurrence_at = first
    task.retry_count = 0


@bounded_errors
def schedule(
    *,
    user: Any,
    module: str,
    task_type: str,
    config: dict[str, Any] | None = None,
    schedule_type: str,
    cron: str | None = None,
    run_at: dt.datetime | None = None,
    interval: Any = None,
    event: str | None = None,
    condition: str | None = None,
    timezone: str | None = None,
    name: str | None = None,
    priority: int = 5,
    max_retries: int | None = None,
    timeout: int | None = None,
    allow_overlap: bool = False,
    tags: Iterable[str] = (),
    misfire_policy: str = MisfirePolicy.RUN_ONCE,
    misfire_grace: int | None = None,
    owner: Any = None,
    is_system: bool = False,
    now: dt.datetime | None = None,
    calendars: Iterable[Any] = (),
    on_success: Iterable[Any] = (),
) -> ScheduledTask:
    """Create a scheduled task after validating everything; nothing is saved on error.

    ``condition`` is accepted for conditional schedules as a note of which
    condition is meant; the task type's ``condition(context)`` decides.
    ``on_success`` names tasks (or ids) to run after each success; the user
    must be allowed to run them (see :func:`scheduler_app.services.chains.resolve`).
    Every argument is type- and size-checked first (:mod:`.arguments`).
    """
    # Every argument but the acting user and the clock, before anything reads one.
    check_arguments({k: v for k, v in locals().items() if k not in ("user", "now")})
    now = resolve_now(now)
    task_cls = resolve_task_type(module, task_type)
    if user is not None:
        _check_may_schedule(user, module, task_type, owner=owner, is_system=is_system)
    settings = conf.get()
    sched = build_schedule(
        schedule_type,
        cron=cron,
        run_at=run_at,
        interval=interval,
        event=event,
        timezone=timezone,
        now=now,
    )
    _refuse_masked_secrets(task_cls, config)
    cleaned = task_configs.clean_config(task_cls, config)
    if user is not None and not policy.has_required_permissions(user, task_cls, cleaned):
        raise denied(
            _("You may not schedule “%(key)s” with this configuration.")
            % {"key": f"{module}.{task_type}"}
        )
    stored_config = storable_config(cleaned)
    task = ScheduledTask(
        module_id=module,
        task_type=task_type,
        name=(name or "").strip() or str(task_cls.name or task_type),
        config=stored_config,
        owner=owner if owner is not None else (user if user is not None else None),
        priority=check_option(run_options.PRIORITY, priority),
        max_retries=check_option(
            run_options.MAX_RETRIES,
            max_retries
            if max_retries is not None
            else (
                task_cls.default_max_retries
                if task_cls.default_max_retries is not None
                else settings.DEFAULT_MAX_RETRIES
            ),
        ),
        timeout=check_option(
            run_options.TIMEOUT,
            timeout
            if timeout is not None
            else (task_cls.default_timeout or settings.DEFAULT_TIMEOUT),
        ),
        allow_overlap=allow_overlap,
        tags=clean_tags(tags),
        misfire_policy=check_choice("misfire_policy", misfire_policy, MisfirePolicy.values),
        misfire_grace=None
        if misfire_grace is None
        else check_option(run_options.MISFIRE_GRACE, misfire_grace),
        is_system=is_system,
        created_by=user,
        updated_by=user,
    )
    apply_schedule(task, sched, now)
    blackouts = blackout_calendars.resolve(calendars or ())
    chained = chains.resolve(user, on_success or ())
    with transaction.atomic():
        task.save()
        if blackouts:
            task.calendars.set(blackouts)
        if chained:
            chains.set_chain(task, chained)
        sharing.grant_owner(task)
        audit.record(
            task,
            AuditAction.CREATED,
            user=user,
            at=now,
            changes={"owner": username_of(task.owner)} if task.owner_id != user_pk(user) else None,
        )
    send_after_commit(task_scheduled, "task.scheduled", task)
    return task


def _check_may_schedule(
    user: Any, module: str, task_type: str, *, owner: Any, is_system: bool
) -> None:
    if not policy.can_schedule(user, module, task_type):
        raise denied(_("You may not schedule “%(key)s” tasks.") % {"key": f"{module}.{task_type}"})
    if is_system and not policy.is_scheduler_admin(user):
        raise denied(_("Only scheduler administrators may create system tasks."))
    if (
        owner is not None
        and user_pk(owner) != user_pk(user)
        and not policy.is_module_admin(user, module)
    ):
        raise denied(_("Only module administrators may schedule a task for someone else."))


def storable_config(cleaned: dict[str, Any]) -> Any:
    """The JSON to store for a cleaned config; a config form may return what JSON cannot hold."""
    stored = task_configs.to_json(cleaned)
    error = check_json(stored)
    if error is not None:
        raise ValidationError({"config": error})
    return stored


def _refuse_masked_secrets(task_cls: type[SchedulableTask], config: dict[str, Any] | None) -> None:
    # A new task has no stored secret to keep: the mask itself must not be saved as one.
    masked = [
        key
        for key in task_cls.secret_fields
        if isinstance(config, dict) and config.get(key) == task_configs.SECRET_MASK
    ]
    if masked:
        raise ValidationError({key: _("Enter the value.") for key in masked}, code="masked_secret")


def delete(task: ScheduledTask, *, user: Any) -> None:
    """Delete the task and its logs; its audit history stays (by task id)."""
    with transaction.atomic():
        fresh = locked(task)
        if fresh.is_system:
            raise denied(_("System tasks cannot be deleted."))
        if user is not None:
            require(policy.can_delete(user, fresh), _("You may not delete this task."))
        pk = fresh.pk
        sharing.clear_object_permissions(fresh)
        fresh.delete()
        fresh.pk = pk
        audit.record(fresh, AuditAction.DELETED, user=user)
