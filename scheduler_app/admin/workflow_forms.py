"""Forms of the workflow editor: add an edge, re-point or re-condition one, remove one.

They only read input; every rule (permissions, cycles, hidden tasks) is the
services' (``services.add_edge`` / ``change_edge`` / ``remove_edge``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduler_app import policy
from scheduler_app.models import EdgeCondition, ScheduledTask, TaskStatus

#: Tasks offered in one select (the newest the user may view); more are reached by id.
MAX_CHOICES = 500


def task_choices(user: Any, always: list[ScheduledTask] = ()) -> list[tuple[str, str]]:  # type: ignore[assignment]
    """(id, "name (#id)") of the tasks ``user`` may view, the tasks in ``always`` first."""
    shown = list(always)
    seen = {t.pk for t in shown}
    rest = (
        policy.viewable_queryset(user, ScheduledTask.objects.exclude(status=TaskStatus.CANCELLED))
        .exclude(pk__in=seen)
        .order_by("-pk")[:MAX_CHOICES]
    )
    shown.extend(rest)
    return [("", "---------")] + [(str(t.pk), f"{t.name} (#{t.pk})") for t in shown]


def _task_field(label: Any) -> forms.CharField:
    # A select to choose from, but any id is passed on: the services decide (and say
    # "No such task" for one the user may not view, without revealing it).
    return forms.CharField(label=label, max_length=20, widget=forms.Select)


class AddEdgeForm(forms.Form):
    source = _task_field(_("When this step ends"))
    condition = forms.ChoiceField(label=_("with"), choices=EdgeCondition.choices)
    target = _task_field(_("then run"))

    def __init__(self, *args: Any, user: Any, workflow_tasks: list[ScheduledTask], **kwargs: Any):
        kwargs["prefix"] = "add"
        super().__init__(*args, **kwargs)
        choices = task_choices(user, workflow_tasks)
        self.fields["source"].widget.choices = choices
        self.fields["target"].widget.choices = choices


class ChangeEdgeForm(forms.Form):
    condition = forms.ChoiceField(label=_("when"), choices=EdgeCondition.choices)
    target = _task_field(_("then run"))

    def __init__(
        self,
        *args: Any,
        user: Any,
        workflow_tasks: list[ScheduledTask],
        edge_id: int,
        **kwargs: Any,
    ):
        kwargs["prefix"] = f"edge-{edge_id}"
        super().__init__(*args, **kwargs)
        self.fields["target"].widget.choices = task_choices(user, workflow_tasks)
