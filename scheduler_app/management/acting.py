"""``--as-user``: commands act as the system unless told to act as a user."""

from __future__ import annotations

import argparse
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from scheduler_app.bounds import MAX_ID_DIGITS
from scheduler_app.quoting import quote_input


def add_as_user_argument(parser: Any) -> None:
    parser.add_argument(
        "--as-user",
        metavar="USERNAME",
        help="Act as this user, under the scheduler's permission rules. Without it the "
        "command acts as the system (whoever can run manage.py can do anything).",
    )


def acting_user(username: str | None) -> Any:
    """The user named by --as-user, or None (the system)."""
    if not username:
        return None
    user_model = get_user_model()
    try:
        return user_model._default_manager.get_by_natural_key(username)
    except user_model.DoesNotExist:
        raise CommandError(f"No user named {quote_input(username)!r}.") from None


def task_for(pk: int, user: Any):  # noqa: ANN201
    """The task with id ``pk`` that ``user`` may see, or a one-line CommandError."""
    from scheduler_app import services
    from scheduler_app.models import ScheduledTask

    try:
        return services.get_task(pk, user=user)
    except ScheduledTask.DoesNotExist:
        raise CommandError(
            f"No scheduled task with id {pk}" + (" that you may see." if user is not None else ".")
        ) from None


def one_line(exc: Exception) -> str:
    """A ValidationError or PermissionDenied as one readable line."""
    messages = getattr(exc, "messages", None)
    if messages:
        return " ".join(str(m) for m in messages)
    return str(exc) or exc.__class__.__name__


def object_id(value: str) -> int:
    """An argparse type for ids: a positive whole number a database column holds."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS and int(text) > 0):
        shown = text if len(text) <= 30 else text[:30] + "…"
        raise argparse.ArgumentTypeError(f"{shown!r} is not an id (a positive whole number).")
    return int(text)


class AuditedCommand(BaseCommand):
    """A command whose changes the task history records as "from a command"."""

    audit_source = "command"

    def execute(self, *args: Any, **options: Any) -> Any:
        from scheduler_app.services import audit

        with audit.acting_from(self.audit_source):
            return super().execute(*args, **options)
