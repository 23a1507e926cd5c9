"""The task form's workflow section: the tasks this one starts when it succeeds.

Kept apart from the schedule fields (``admin/forms.py``): one extra field,
``on_success``, saved through ``services.update(on_success=...)`` like every
other change, so cycles, hidden tasks and permissions are refused by the
services with their own messages. Failure and always edges, and the graph,
are on the task's Workflow page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from scheduler_app import policy
from scheduler_app.admin.forms import ScheduledTaskAdminForm
from scheduler_app.models import ScheduledTask, TaskStatus

#: Tasks offered at most (the newest the user may view), besides those already chained.
MAX_CHOICES = 500
#: The fieldset the task admin adds for the field.
FIELDSET: Any = (_("Workflow"), {"fields": ("on_success",)})


class WorkflowTaskAdminForm(ScheduledTaskAdminForm):
    on_success = forms.TypedMultipleChoiceField(
        label=_("Then run (on success)"),
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_(
            "Tasks that run when this one succeeds. Edges on failure or always, and the "
            "graph of the whole workflow, are on the Workflow page."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("on_success")
        if not isinstance(field, forms.ChoiceField):
            return
        from scheduler_app.services import chains

        task = self.instance
        # Only what the user may view: the others stay chained, unnamed (services.update).
        current = chains.viewable_ids(chains.chained_ids(task), self.acting_user) if task.pk else []
        chained = list(ScheduledTask.objects.filter(pk__in=current).order_by("name"))
        others: Any = ScheduledTask.objects.exclude(status=TaskStatus.CANCELLED).exclude(
            pk__in=[*current, task.pk or 0]
        )
        if self.acting_user is not None:
            others = policy.viewable_queryset(self.acting_user, others)
        offered = chained + list(others.order_by("-pk")[:MAX_CHOICES])
        field.choices = [(t.pk, f"{t.name} (#{t.pk})") for t in offered]
        self.initial["on_success"] = current
