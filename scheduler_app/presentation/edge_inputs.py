"""The scheduling pages' workflow section: what a task starts when it succeeds, fails or ends.

One list of tasks per condition, offered among the tasks the person may view.
Saving compares the lists with the task's stored edges and changes only the
difference through ``services.remove_edge`` / ``change_edge`` / ``add_edge``,
so cycles, hidden tasks and permissions are refused by the services, with their
messages on the list they concern, and every change is audited. Edges to tasks
the person may not view are neither shown nor touched.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from scheduler_app import policy, services
from scheduler_app.models import EdgeCondition, ScheduledTask, TaskStatus, WorkflowEdge

PREFIX = "edges"
#: Tasks offered at most (the newest the person may view), besides those already linked.
MAX_CHOICES = 500
#: Tasks one list takes at most (a bound on what a post can ask the services to do).
MAX_PER_LIST = 100
#: The form's field for each edge condition, in the order the page shows them.
FIELD_OF = {
    EdgeCondition.SUCCESS: "on_success",
    EdgeCondition.FAILURE: "on_failure",
    EdgeCondition.ALWAYS: "always",
}


class TaskIdsField(forms.TypedMultipleChoiceField):
    """Task ids; any whole number is let through for the services to judge.

    A task the person may not view is then refused as "No such task" by the
    services, like everywhere else, rather than as a choice that is not offered.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            coerce=int,
            required=False,
            widget=forms.SelectMultiple(attrs={"size": 6}),
            error_messages={"invalid_choice": _("“%(value)s” is not a task id.")},
            **kwargs,
        )

    def valid_value(self, value: Any) -> bool:
        return str(value).strip().isdigit()

    def validate(self, value: Any) -> None:
        super().validate(value)
        if len(value) > MAX_PER_LIST:
            raise ValidationError(
                _("Choose at most %(limit)s tasks."), code="max", params={"limit": MAX_PER_LIST}
            )


class EdgesForm(forms.Form):
    """The tasks that run after this one, by how it ends."""

    # Posted by the page that shows the lists: a post without it (a module's own template,
    # a script) leaves the edges alone instead of reading absent lists as "none".
    shown = forms.BooleanField(required=False, initial=True, widget=forms.HiddenInput)

    on_success = TaskIdsField(
        label=_("Then run, on success"), help_text=_("Tasks that run when this one succeeds.")
    )
    on_failure = TaskIdsField(
        label=_("Then run, on failure"),
        help_text=_("Tasks that run when this one fails for good (retries used up)."),
    )
    always = TaskIdsField(
        label=_("Then run, always"), help_text=_("Tasks that run whenever this one ends.")
    )

    def __init__(
        self, data: Any = None, *, user: Any, instance: ScheduledTask | None = None
    ) -> None:
        self.user = user
        self.instance = instance
        self.stored = self._stored_edges()
        initial: dict[str, list[int]] = {name: [] for name in FIELD_OF.values()}
        for target_id, edge in self.stored.items():
            initial[FIELD_OF[EdgeCondition(edge.condition)]].append(target_id)
        super().__init__(data, prefix=PREFIX, initial=initial)
        choices = self._choices()
        for name in FIELD_OF.values():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices

    def _stored_edges(self) -> dict[int, WorkflowEdge]:
        """The task's outgoing edges to tasks the person may view, by target id."""
        if self.instance is None or self.instance.pk is None:
            return {}
        edges = WorkflowEdge.objects.filter(source_id=self.instance.pk)
        if self.user is not None:
            edges = edges.filter(target__in=policy.viewable_queryset(self.user))
        return {edge.target_id: edge for edge in edges}

    def _choices(self) -> list[tuple[int, str]]:
        linked = list(ScheduledTask.objects.filter(pk__in=list(self.stored)).order_by("name"))
        own = self.instance.pk if self.instance is not None and self.instance.pk else 0
        others: Any = ScheduledTask.objects.exclude(status=TaskStatus.CANCELLED).exclude(
            pk__in=[*self.stored, own]
        )
        if self.user is not None:
            others = policy.viewable_queryset(self.user, others)
        candidates = list(others.order_by("-pk")[:MAX_CHOICES])
        if self.user is not None:
            # Offer only what the services would accept: a step the user may run (one query).
            actions = policy.allowed_actions_for(self.user, candidates)
            candidates = [t for t in candidates if policy.RUN in actions.get(t.pk, ())]
        offered = linked + candidates
        return [(t.pk, f"{t.name} (#{t.pk})") for t in offered]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        seen: dict[int, str] = {}
        for name in FIELD_OF.values():
            for pk in data.get(name) or []:
                if pk in seen and seen[pk] != name:
                    # One edge per pair of tasks: "always" covers success and failure alike.
                    self.add_error(
                        name,
                        _("Task #%(id)s is already in “%(other)s”; a task is started once.")
                        % {"id": pk, "other": self.fields[seen[pk]].label},
                    )
                seen.setdefault(pk, name)
        return data

    @property
    def posted(self) -> bool:
        """Whether the lists were on the page that was sent (else nothing is changed)."""
        return self.is_bound and bool(self.cleaned_data.get("shown"))

    def wanted(self) -> dict[int, str]:
        """Target id -> condition, as posted."""
        return {
            pk: str(condition)
            for condition, name in FIELD_OF.items()
            for pk in self.cleaned_data.get(name) or []
        }

    def save(self, task: ScheduledTask) -> None:
        """Make ``task``'s edges to viewable tasks what the lists say, through the services.

        Raises:
            ValidationError: keyed by this form's field of the refused edge.
        """
        if not self.posted:
            return
        wanted = self.wanted()
        stored = self.stored if self.instance is not None else {}
        # Remove first, re-point next, add last: an edge that moved between lists, or a
        # loop broken by a removal, is never refused because of the state being left.
        for target_id, edge in stored.items():
            if target_id not in wanted:
                self._apply(edge.condition, services.remove_edge, edge.pk, user=self.user)
        for target_id, edge in stored.items():
            condition = wanted.get(target_id)
            if condition is not None and condition != edge.condition:
                self._apply(
                    condition, services.change_edge, edge.pk, user=self.user, condition=condition
                )
        for target_id, condition in wanted.items():
            if target_id not in stored:
                self._apply(
                    condition,
                    services.add_edge,
                    task,
                    target_id,
                    user=self.user,
                    condition=condition,
                )

    def _apply(self, on: str, call: Any, *args: Any, **kwargs: Any) -> None:
        """Call the service ``call``; its refusal becomes an error of the list for ``on``."""
        field = FIELD_OF[EdgeCondition(on)]
        try:
            call(*args, **kwargs)
        except ValidationError as error:
            raise ValidationError({field: error.messages}) from error
        except PermissionDenied as error:
            raise ValidationError({field: [str(error) or _("You may not do this.")]}) from error
