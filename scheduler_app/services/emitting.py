"""Fire an event: queue one run for each EVENT task listening to it (``services.emit``).

Model signals are bound to events in :mod:`.event_bindings`; the engine runs
the queued events in :mod:`scheduler_app.engine.event_runs`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app.engine import wake
from scheduler_app.models import (
    AuditAction,
    AuditSource,
    ScheduledTask,
    TaskStatus,
)
from scheduler_app.services import audit
from scheduler_app.services.arguments import check_arguments
from scheduler_app.services.steps import bounded_errors

#: Where an emit is written on the trail of each task it starts. Events fired by code (model
#: signals, task bodies) are not: there would be an event per saved row.
AUDITED_SOURCES = frozenset(
    {AuditSource.WEBHOOK, AuditSource.API, AuditSource.ADMIN, AuditSource.PAGE, AuditSource.COMMAND}
)


@bounded_errors
def emit(event_name: str, payload: dict[str, Any] | None = None) -> None:
    """Fire the EVENT tasks listening to ``event_name``, once each, after the current
    transaction commits (nothing fires if it rolls back).

    Each listening task (pending or running; not paused, cancelled or failed)
    gets one queued occurrence with ``payload`` in its context; events that
    arrive while a task runs are run after it, in order. An event fired from a
    surface (a webhook, the API, a command…) is recorded on each task's audit
    trail as "triggered", with that source.
    """
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from scheduler_app.models import PendingEvent

    check_arguments({"event_name": event_name, "payload": payload})
    name = event_name.strip()
    if not name:
        raise ValidationError({"event_name": _("Name the event to emit.")}, code="required")
    data = json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder))
    # Read now: the commit that fires the event may come after the surface's block ended.
    source = audit.current_source()

    def fire() -> None:
        now = timezone.now()
        found = ScheduledTask.objects.listening_to(name).filter(
            status__in=(TaskStatus.PENDING, TaskStatus.RUNNING)
        )
        if source in AUDITED_SOURCES:
            tasks = list(found)
            listeners = [task.pk for task in tasks]
            for task in tasks:
                audit.record(
                    task,
                    AuditAction.TRIGGERED,
                    user=None,
                    changes={"event": [None, name]},
                    at=now,
                    source=source,
                )
        else:
            listeners = list(found.values_list("pk", flat=True))
        if not listeners:
            return
        PendingEvent.objects.bulk_create(
            [
                PendingEvent(task_id=pk, event_name=name, payload=data, fired_at=now)
                for pk in listeners
            ]
        )
        ScheduledTask.objects.filter(pk__in=listeners, status=TaskStatus.PENDING).filter(
            Q(next_run__isnull=True) | Q(next_run__gt=now)
        ).update(next_run=now, occurrence_at=now)
        wake.notify()

    transaction.on_commit(fire)
