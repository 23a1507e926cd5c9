"""Template tags for modules that link to or embed the scheduling form.

{% load scheduler_tags %}
<a href="{% schedule_url 'reports' 'email_report' %}">Schedule</a>
{% scheduler_form form %}          {# inside a <form>, with a TaskScheduleForm #}
{% next_runs task 5 as runs %}
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from scheduler_app import services
from scheduler_app.forms import SCHEDULE_FIELDS, ScheduleSpecForm, TaskScheduleForm
from scheduler_app.models import ScheduledTask

register = template.Library()


@register.simple_tag
def schedule_url(module_id: str, task_type: str, next_url: str = "") -> str:
    """The URL of the page that schedules a new ``module_id.task_type`` task."""
    url = reverse("scheduler_app:new", kwargs={"module": module_id, "task_type": task_type})
    if next_url:
        from django.utils.http import urlencode

        url += "?" + urlencode({"next": next_url})
    return url


@register.simple_tag
def edit_task_url(task: ScheduledTask) -> str:
    return reverse("scheduler_app:edit", args=[task.pk])


@register.simple_tag
def next_runs(task: ScheduledTask, count: int = 5) -> list[dt.datetime]:
    """The task's next ``count`` runs, in its own time zone ([] if the schedule is broken)."""
    try:
        return services.next_runs(task=task, count=count)
    except (ValidationError, ValueError):
        return []


def form_preview(form: TaskScheduleForm) -> dict[str, Any]:
    """The preview of the form's current schedule, for the first render (before any script)."""
    from scheduler_app.display import describe_runs

    options = form.options
    data = {name: options[name].value() for name in SCHEDULE_FIELDS}
    spec = ScheduleSpecForm(data, now=timezone.now())
    spec.check_past = options.check_past
    if not spec.is_valid() or spec.schedule is None:
        errors = [str(m) for messages in spec.errors.values() for m in messages]
        return {
            "description": "",
            "runs": [],
            "error": errors[0] if options.is_bound and errors else "",
        }
    return {
        "description": spec.schedule.describe(),
        "runs": describe_runs(spec.schedule),
        "error": "",
    }


@register.inclusion_tag("scheduler_app/includes/schedule_form_fields.html")
def scheduler_form(form: TaskScheduleForm) -> dict[str, Any]:
    """Render a TaskScheduleForm's fields with the live preview panel."""
    return {
        "form": form,
        "preview_url": reverse("scheduler_app:preview"),
        "preview": form_preview(form),
    }


@register.filter
def sched_badge(status: str) -> str:
    """A coloured status label."""
    from scheduler_app import display

    return display.badge(status)


@register.filter
def sched_when(when: dt.datetime | None) -> str:
    """Local time plus "in 3 hours" / "5 minutes ago"."""
    from scheduler_app import display

    return display.when_with_relative(when)


@register.filter
def sched_duration(seconds: float | None) -> str:
    from scheduler_app import display

    return display.duration(seconds)


@register.filter
def sched_percent(value: float | None) -> str:
    from scheduler_app import display

    return display.percent(value)
