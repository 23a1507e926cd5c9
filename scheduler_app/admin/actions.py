"""Changelist actions. Each asks the services (which ask the policy) task by task
and reports what it did and what it refused, and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from scheduler_app import policy, services
from scheduler_app.admin import deleting, ending
from scheduler_app.models import ScheduledTask
from scheduler_app.quoting import quote_input

#: The number of task names listed in a message before "and N more".
NAMES_SHOWN = 10


def _names(tasks: Iterable[ScheduledTask]) -> str:
    tasks = list(tasks)
    text = ", ".join(f"“{quote_input(t.name)}”" for t in tasks[:NAMES_SHOWN])
    if len(tasks) > NAMES_SHOWN:
        text += " " + _("and %(count)d more") % {"count": len(tasks) - NAMES_SHOWN}
    return text


def refusal_text(error: Exception) -> str:
    """A refusal of the services as one line."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("Permission denied.")


def apply_to_each(
    request: Any,
    tasks: Iterable[ScheduledTask],
    operation: Callable[[ScheduledTask], Any],
    done_message: Callable[[int], str],
) -> tuple[list[ScheduledTask], list[tuple[ScheduledTask, str]]]:
    """Run ``operation`` per task; message the user with what was done and what was refused."""
    done: list[ScheduledTask] = []
    refused: list[tuple[ScheduledTask, str]] = []
    for task in tasks:
        try:
            operation(task)
        except ScheduledTask.DoesNotExist:
            refused.append((task, _("This task no longer exists.")))
        except (PermissionDenied, ValidationError) as error:
            refused.append((task, refusal_text(error)))
        else:
            done.append(task)
    if done:
        messages.success(
            request, done_message(len(done)) % {"count": len(done), "names": _names(done)}
        )
    for task, reason in refused[:NAMES_SHOWN]:
        messages.warning(
            request,
            _("Skipped “%(name)s”: %(reason)s")
            % {"name": quote_input(task.name), "reason": reason},
        )
    if len(refused) > NAMES_SHOWN:
        messages.warning(
            request, _("%(count)d more tasks were skipped.") % {"count": len(refused) - NAMES_SHOWN}
        )
    return done, refused


@admin.action(description=gettext_lazy("Pause selected tasks"), permissions=["view"])
def pause_tasks(modeladmin: Any, request: Any, queryset: Any) -> None:
    apply_to_each(
        request,
        queryset,
        lambda t: services.pause(t, user=request.user),
        lambda n: ngettext(
            "Paused %(count)d task: %(names)s.", "Paused %(count)d tasks: %(names)s.", n
        ),
    )


@admin.action(description=gettext_lazy("Resume selected tasks"), permissions=["view"])
def resume_tasks(modeladmin: Any, request: Any, queryset: Any) -> None:
    apply_to_each(
        request,
        queryset,
        lambda t: services.resume(t, user=request.user),
        lambda n: ngettext(
            "Resumed %(count)d task: %(names)s.", "Resumed %(count)d tasks: %(names)s.", n
        ),
    )


@admin.action(
    description=gettext_lazy("End the schedules of selected tasks…"), permissions=["view"]
)
def cancel_tasks(modeladmin: Any, request: Any, queryset: Any) -> Any:
    # Ending is for good: ask first, on a page of its own (as Django's delete does).
    if not ending.confirmed(request):
        return ending.end_confirmation(modeladmin, request, queryset)
    apply_to_each(
        request,
        queryset,
        lambda t: services.cancel(t, user=request.user),
        lambda n: ngettext(
            "Ended the schedule of %(count)d task: %(names)s.",
            "Ended the schedules of %(count)d tasks: %(names)s.",
            n,
        ),
    )
    return None


@admin.action(description=gettext_lazy("Delete selected tasks…"), permissions=["delete"])
def delete_selected(modeladmin: Any, request: Any, queryset: Any) -> Any:
    # Django's own action under its name: confirmed on the app's page, which says per task
    # what is deleted and what is left (and why), instead of Django's related objects.
    if not ending.confirmed(request):
        return deleting.delete_confirmation(modeladmin, request, queryset)
    apply_to_each(
        request,
        queryset,
        lambda t: services.delete(t, user=request.user),
        lambda n: ngettext(
            "Deleted %(count)d task: %(names)s.",
            "Deleted %(count)d tasks: %(names)s.",
            n,
        ),
    )
    return None


@admin.action(description=gettext_lazy("Run selected tasks now"), permissions=["view"])
def run_tasks_now(modeladmin: Any, request: Any, queryset: Any) -> None:
    apply_to_each(
        request,
        queryset,
        lambda t: services.run_now(t, user=request.user),
        lambda n: ngettext(
            "Queued %(count)d task to run on the next scheduler pass: %(names)s.",
            "Queued %(count)d tasks to run on the next scheduler pass: %(names)s.",
            n,
        ),
    )


@admin.action(
    description=gettext_lazy("Clear the overlap lock of selected tasks"), permissions=["clear_lock"]
)
def clear_locks(modeladmin: Any, request: Any, queryset: Any) -> None:
    apply_to_each(
        request,
        queryset,
        lambda t: services.clear_lock(t, user=request.user),
        lambda n: ngettext(
            "Cleared the lock of %(count)d task: %(names)s.",
            "Cleared the locks of %(count)d tasks: %(names)s.",
            n,
        ),
    )


#: The policy action each changelist action needs on some task to be offered at all.
ACTION_NEEDS = {
    "run_tasks_now": policy.RUN,
    "pause_tasks": policy.PAUSE,
    "resume_tasks": policy.RESUME,
    "cancel_tasks": policy.CANCEL,
}

#: The actions that can also be run on one task from its page: name -> action.
TASK_ACTIONS = {
    "run_now": run_tasks_now,
    "pause": pause_tasks,
    "resume": resume_tasks,
    "cancel": cancel_tasks,
    "clear_lock": clear_locks,
}
