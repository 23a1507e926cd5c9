"""The steps every use case shares: lock and re-read the row, check, change status
through the lifecycle, tell after commit, bound the error messages."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app.exceptions import InvalidTransition
from scheduler_app.models import (
    ScheduledTask,
    check_transition,
)
from scheduler_app.quoting import bound_message, clip_inputs, long_inputs, quote_input
from scheduler_app.signals import send_lifecycle

#: The code of the ValidationError of an action that would change nothing.
NO_CHANGE = "no_change"


def resolve_now(now: dt.datetime | None) -> dt.datetime:
    """``now`` if given (tests inject the clock), else the current time."""
    return now or timezone.now()


def denied(message: str) -> PermissionDenied:
    """The PermissionDenied a use case raises."""
    return PermissionDenied(message)


def user_pk(user: Any) -> Any:
    """The acting user's primary key; None for the system."""
    return getattr(user, "pk", None)


def username_of(user: Any) -> str:
    """The acting user's name for the audit trail; blank for the system."""
    return user.get_username() if user is not None else ""


def send_after_commit(signal: Any, event: str, task: ScheduledTask) -> None:
    """Send a lifecycle signal after commit (``send_lifecycle`` adds the masked config)."""
    # Robust: the change is committed; nothing the signal does may turn it into an error.
    transaction.on_commit(lambda: send_lifecycle(signal, event, task=task), robust=True)


def refuse_no_op(same: bool, message: str) -> None:
    """An action that would change nothing is refused (and so writes no audit event)."""
    if same:
        # Nested, so that the code survives (a dict of plain messages drops it).
        raise ValidationError({"status": ValidationError(message, code=NO_CHANGE)})


def transition(task: ScheduledTask, target: str) -> None:
    """Set ``task.status`` to ``target`` if the lifecycle allows it; a ValidationError otherwise."""
    try:
        check_transition(task.status, target)
    except InvalidTransition as exc:
        raise ValidationError({"status": str(exc)}, code="invalid_transition") from None
    task.status = target


def locked(task: ScheduledTask) -> ScheduledTask:
    """Re-read the task under a row lock so concurrent changes serialise."""
    try:
        return ScheduledTask.objects.select_for_update().get(pk=task.pk)
    except ScheduledTask.DoesNotExist:
        raise ValidationError(_("This task no longer exists."), code="gone") from None


def sync_instance(task: ScheduledTask, fresh: ScheduledTask) -> ScheduledTask:
    """Copy the saved state onto the caller's instance (undoing any in-memory edits)."""
    if task is not fresh:
        for field in ScheduledTask._meta.concrete_fields:
            setattr(task, field.attname, getattr(fresh, field.attname))
    return task


def require(allowed: bool, message: str) -> None:
    """PermissionDenied with ``message`` unless ``allowed``."""
    if not allowed:
        raise denied(message)


_QUOTED = re.compile(r"“([^”]*)”")
F = TypeVar("F", bound=Callable[..., Any])


def _shorten(message: str, inputs: set[str]) -> str:
    message = clip_inputs(message, inputs)
    message = _QUOTED.sub(lambda m: f"“{quote_input(m.group(1))}”", message)
    return bound_message(message)


def shorten_error(error: ValidationError, inputs: set[str] | None = None) -> ValidationError:
    """``error`` with every message bounded: the ``inputs`` it repeats and quotes in “…” cut
    to QUOTE_LIMIT characters, the whole to MESSAGE_LIMIT."""
    found = inputs or set()
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                field: [
                    ValidationError(_shorten(str(m), found), code=e.code)
                    for e in errors
                    for m in e.messages
                ]
                for field, errors in error.error_dict.items()
            }
        )
    return ValidationError(
        [
            ValidationError(_shorten(str(m), found), code=e.code)
            for e in error.error_list
            for m in e.messages
        ]
    )


def bounded_errors(func: F) -> F:
    """Bound the messages of the ValidationError and PermissionDenied ``func`` raises.

    Any argument of the call a message repeats (a config value, a cron, a name) is cut
    to a quote of QUOTE_LIMIT characters, however the message was built.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationError as error:
            raise shorten_error(error, long_inputs(args, kwargs)) from None
        except PermissionDenied as error:
            raise PermissionDenied(_shorten(str(error), long_inputs(args, kwargs))) from None

    return wrapper  # type: ignore[return-value]
