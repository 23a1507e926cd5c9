"""The lists a user may see, as lazy querysets (a constant number of queries)."""

from __future__ import annotations

from typing import Any

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.functions import Cast

from scheduler_app.policy.roles import (
    administered_modules,
    can_see_every_calendar,
    can_view_all,
    is_active_user,
    is_module_admin,
    is_module_user,
    is_scheduler_admin,
)
from scheduler_app.policy.tasks import OBJECT_PERMS, object_permission_models
from scheduler_app.registry import registry

# --- lists -----------------------------------------------------------------


def _shared_pks(user: Any) -> tuple[QuerySet, QuerySet]:
    ctype, user_model, group_model = object_permission_models()
    mine = user_model.objects.filter(
        user_id=user.pk, content_type=ctype, permission__codename__in=OBJECT_PERMS
    )
    groups = group_model.objects.filter(
        group__user=user.pk, content_type=ctype, permission__codename__in=OBJECT_PERMS
    )
    # The cast runs on the few rows of this user only, never on the whole table.
    as_pk = Cast("object_pk", BigIntegerField())
    return (
        mine.annotate(task_pk=as_pk).values("task_pk"),
        groups.annotate(task_pk=as_pk).values("task_pk"),
    )


def viewable_queryset(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks ``user`` may see, as one lazy queryset (a constant number of queries)."""
    from scheduler_app.models import ScheduledTask

    qs = queryset if queryset is not None else ScheduledTask.objects.all()
    if not is_active_user(user):
        return qs.none()
    if can_view_all(user):
        return qs
    modules = [
        p.module_id
        for p in registry.providers()
        if is_module_admin(user, p.module_id) or is_module_user(user, p.module_id)
    ]
    mine, groups = _shared_pks(user)
    return qs.filter(
        Q(owner_id=user.pk) | Q(module_id__in=modules) | Q(pk__in=mine) | Q(pk__in=groups)
    )


def lock_clearable_queryset(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """The tasks whose lock ``user`` may clear, as one lazy queryset."""
    from scheduler_app.models import ScheduledTask

    qs = queryset if queryset is not None else ScheduledTask.objects.all()
    if is_scheduler_admin(user):
        return qs
    return qs.filter(module_id__in=administered_modules(user))


def viewable_logs(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """Execution logs of the tasks ``user`` may see."""
    from scheduler_app.models import TaskExecutionLog

    qs = queryset if queryset is not None else TaskExecutionLog.objects.all()
    if not is_active_user(user):
        return qs.none()
    if can_view_all(user):
        return qs
    return qs.filter(task__in=viewable_queryset(user).values("pk"))


def viewable_calendars(user: Any, queryset: QuerySet | None = None) -> QuerySet:
    """Blackout calendars ``user`` may see: every one (``can_see_every_calendar``),
    otherwise those attached to a task the user may view."""
    from scheduler_app.models import BlackoutCalendar

    qs = queryset if queryset is not None else BlackoutCalendar.objects.all()
    if not is_active_user(user):
        return qs.none()
    if can_see_every_calendar(user):
        return qs
    return qs.filter(pk__in=viewable_queryset(user).values("calendars"))
