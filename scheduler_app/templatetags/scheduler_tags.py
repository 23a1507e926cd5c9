"""Template tags for modules that link to or embed the scheduling form.

{% load scheduler_tags %}
<a href="{% schedule_url 'reports' 'email_report' %}">Schedule</a>
{% scheduler_form form %}          {# inside a <form>, with a TaskScheduleForm #}
{% next_runs task 5 as runs %}
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template
from django.core.exceptions import ValidationError
from django.utils import timezone

from scheduler_app import schedules, services
from scheduler_app.forms import SCHEDULE_FIELDS, ScheduleSpecForm, TaskScheduleForm
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import links

register = template.Library()


@register.simple_tag
def schedule_url(module_id: str, task_type: str, next_url: str = "") -> str:
    """The URL of the page that schedules a new ``module_id.task_type`` task ("" if none)."""
    return links.schedule_url(module_id, task_type, next_url)


@register.simple_tag
def edit_task_url(task: ScheduledTask) -> str:
    """The URL of the task's module form ("" without ``scheduler_app.urls``)."""
    return links.reverse_or_empty("scheduler_app:edit", task.pk)


@register.simple_tag
def next_runs(task: ScheduledTask, count: int = 5) -> list[dt.datetime]:
    """The task's next ``count`` runs, in its own time zone ([] if the schedule is broken)."""
    try:
        return services.next_runs(task=task, count=count)
    except (ValidationError, ValueError):
        return []


def form_preview(form: TaskScheduleForm) -> dict[str, Any]:
    """The preview of the form's current schedule, for the first render (before any script)."""
    from scheduler_app.presentation.display import describe_runs

    options = form.options
    data = {name: options[name].value() for name in SCHEDULE_FIELDS}
    spec = ScheduleSpecForm(data, now=timezone.now())
    spec.check_past = options.check_past
    if not spec.is_valid() or spec.schedule is None:
        # "Cron expression: ...": the panel stands apart from the field, so it names it.
        errors = [
            f"{spec.fields[key].label}: {m}" if key in spec.fields else str(m)
            for key, messages in spec.errors.items()
            for m in messages
        ]
        return {
            "description": "",
            "runs": [],
            "error": errors[0] if options.is_bound and errors else "",
        }
    try:
        runs = describe_runs(spec.schedule)
    except ValidationError as exc:
        # A schedule valid as stored can have no run left: an ended one-time task's past
        # time, re-shown after the services refused to resume it. The page still renders.
        return {"description": spec.schedule.describe(), "runs": [], "error": exc.messages[0]}
    return {"description": spec.schedule.describe(), "runs": runs, "error": ""}


@register.inclusion_tag("scheduler_app/includes/schedule_form_fields.html")
def scheduler_form(form: TaskScheduleForm) -> dict[str, Any]:
    """Render a TaskScheduleForm's fields with the live preview panel."""
    return {
        "form": form,
        "preview_url": links.reverse_or_empty("scheduler_app:preview"),
        "preview": form_preview(form),
        "schedule_layout": json.dumps(schedules.form_layout()),
    }


@register.filter
def sched_badge(status: str) -> str:
    """A coloured status label."""
    from scheduler_app.presentation import display

    return display.badge(status)


@register.filter
def sched_time(when: dt.datetime | None, zone: Any = None) -> str:
    """``{{ log.started_at|sched_time:task }}``: the time in the task's zone (or a zone name;
    none: the current zone) in the app's one format, "Mon, 2026-06-01 14:00 CEST"."""
    from scheduler_app.presentation import display

    return display.when(when, zone)


@register.filter
def sched_when(when: dt.datetime | None, zone: Any = None) -> str:
    """As :func:`sched_time`, plus "in 3 hours" / "5 minutes ago" below it."""
    from scheduler_app.presentation import display

    return display.when_with_relative(when, zone)


@register.filter
def sched_duration(seconds: float | None) -> str:
    from scheduler_app.presentation import display

    return display.duration(seconds)


@register.filter
def sched_percent(value: float | None) -> str:
    from scheduler_app.presentation import display

    return display.percent(value)


@register.simple_tag(takes_context=True)
def scheduling_pages(context: template.Context) -> list[Any]:
    """``{% scheduling_pages as pages %}``: the scheduling pages outside the admin that the
    request's user may open (each has ``title``, ``url`` and ``note``)."""
    request = context.get("request")
    return links.scheduling_pages(request.user) if request is not None else []


@register.filter
def sched_kind(task: ScheduledTask) -> str:
    """ "Meeting reminder · CRM": the task's type and module by name (keys if not installed)."""
    from scheduler_app.registry import registry

    module = task.module_id
    task_type = task.task_type
    if registry.is_registered(task.module_id):
        provider = registry.get(task.module_id)
        module = str(provider.verbose_name())
        known = provider.task_types.get(task.task_type)
        task_type = str(getattr(known, "name", "") or task.task_type)
    return f"{task_type} · {module}"
