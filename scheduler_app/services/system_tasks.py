"""System tasks: the tasks modules declare for every installation (``TaskProvider.system_tasks``).

:func:`sync` creates each declared task (``is_system=True``, owned by nobody),
applies a changed declaration to its task, and disables the task of a
declaration that is gone. It runs after every ``migrate`` (unless
``SCHEDULER["SYSTEM_TASKS_ON_MIGRATE"]`` is False) and from
``manage.py scheduler_sync_system_tasks``. Users may pause, resume and run a
system task; the policy refuses editing and deleting it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models.signals import post_migrate
from django.utils import timezone

from scheduler_app.providers import SystemTask, TaskProvider
from scheduler_app.registry import registry

logger = logging.getLogger("scheduler_app.system_tasks")
SYSTEM_TAG = "system"


@dataclass
class SyncReport:
    """Keys of the system tasks by what :func:`sync` did to them; errors by key."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


def declared() -> dict[str, tuple[type[TaskProvider], SystemTask]]:
    """Every declared system task by key (``<module_id>.<name>``)."""
    found: dict[str, tuple[type[TaskProvider], SystemTask]] = {}
    for provider in registry.providers():
        specs = getattr(provider, "system_tasks", None) or {}
        if not isinstance(specs, dict):
            continue
        for name, spec in specs.items():
            if isinstance(spec, SystemTask):
                found[f"{provider.module_id}.{name}"] = (provider, spec)
    return found


def fingerprint(module_id: str, spec: SystemTask) -> str:
    """A digest of the declaration: a different digest means the task must be updated."""
    text = json.dumps({"module": module_id, **asdict(spec)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _arguments(spec: SystemTask) -> dict[str, Any]:
    """The schedule and options of ``spec`` as services.schedule/update arguments."""
    args: dict[str, Any] = {
        "name": spec.name,
        "config": dict(spec.config),
        "schedule_type": spec.schedule_type,
        "cron": spec.cron or "",
        "interval": spec.interval,
        "event": spec.event or "",
        "timezone": spec.timezone,
        "priority": spec.priority,
        "misfire_policy": spec.misfire_policy,
        "tags": [SYSTEM_TAG, *spec.tags],
    }
    if spec.max_retries is not None:
        args["max_retries"] = spec.max_retries
    if spec.timeout is not None:
        args["timeout"] = spec.timeout
    return args


def _flatten(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def sync(*, now: dt.datetime | None = None) -> SyncReport:
    """Bring the system tasks in line with the declarations; safe to run any number of times.

    A declaration the services refuse (a bad cron, an unknown task type) is
    reported in ``errors`` and the others are still synced. Their history says
    "from the system", whoever started the sync (``migrate``, the command).
    """
    from scheduler_app.services import audit

    with audit.acting_from("system"):
        return _sync(now=now)


def _sync(*, now: dt.datetime | None) -> SyncReport:
    from scheduler_app import services
    from scheduler_app.models import SystemTaskRecord

    now = now or timezone.now()
    report = SyncReport()
    wanted = declared()
    for key, (provider, spec) in wanted.items():
        digest = fingerprint(provider.module_id, spec)
        try:
            with transaction.atomic():
                record = (
                    SystemTaskRecord.objects.select_for_update()
                    .select_related("task")
                    .filter(key=key)
                    .first()
                )
                if record is None:
                    task = services.schedule(
                        user=None,
                        module=provider.module_id,
                        task_type=spec.task_type,
                        is_system=True,
                        now=now,
                        **_arguments(spec),
                    )
                    SystemTaskRecord.objects.create(
                        key=key, task=task, fingerprint=digest, synced_at=now
                    )
                    report.created.append(key)
                elif record.fingerprint != digest or record.retired_at is not None:
                    args = _arguments(spec)
                    services.update(record.task, user=None, now=now, enabled=True, **args)
                    record.fingerprint, record.retired_at, record.synced_at = digest, None, now
                    record.save(update_fields=["fingerprint", "retired_at", "synced_at"])
                    report.updated.append(key)
                else:
                    report.unchanged.append(key)
        except ValidationError as exc:
            report.errors[key] = _flatten(exc)
    for record in (
        SystemTaskRecord.objects.filter(retired_at__isnull=True)
        .exclude(key__in=list(wanted))
        .select_related("task")
    ):
        with transaction.atomic():
            # Kept with its history; a module that comes back re-enables it.
            services.update(record.task, user=None, now=now, enabled=False)
            record.retired_at = now
            record.save(update_fields=["retired_at"])
        report.retired.append(record.key)
    return report


def _migrations_pending(using: str) -> bool:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    return any(
        node not in loader.applied_migrations for node in loader.graph.leaf_nodes("scheduler_app")
    )


def _on_post_migrate(
    sender: Any, using: str = DEFAULT_DB_ALIAS, verbosity: int = 1, **kwargs: Any
) -> None:
    from scheduler_app import conf
    from scheduler_app.models import ScheduledTask

    if getattr(sender, "name", None) != "scheduler_app" or not conf.get().SYSTEM_TASKS_ON_MIGRATE:
        return
    if router.db_for_write(ScheduledTask) != using or _migrations_pending(using):
        return  # another database, or migrated back: the tables may not match the models
    report = sync()
    for key, error in report.errors.items():
        logger.error("System task %s was not synced: %s", key, error)
    if verbosity >= 1 and report.changed:
        print(
            f"  System tasks: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.retired)} retired."
        )


post_migrate.connect(_on_post_migrate, dispatch_uid="scheduler_app.sync_system_tasks")
