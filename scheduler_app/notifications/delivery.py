"""Messages, where they come from, and sending them through the chosen channels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scheduler_app.exceptions import NotRegistered, SchedulerError
from scheduler_app.notifications.channels import IN_APP, get_channel
from scheduler_app.notifications.messages import Message, Origin
from scheduler_app.providers import TaskResult

if TYPE_CHECKING:
    from scheduler_app.context import TaskContext


class NotificationError(SchedulerError):
    """One or more channels failed; ``failures`` maps channel name to error text."""

    def __init__(self, failures: dict[str, str], delivered: dict[str, int] | None = None) -> None:
        self.failures = failures
        self.delivered = delivered or {}
        detail = "; ".join(f"{name}: {error}" for name, error in failures.items())
        super().__init__(f"Notification channel failed ({detail}).")


def error_text(exc: BaseException) -> str:
    """``module.Class: message`` (builtins unqualified), as run logs show errors."""
    cls = type(exc)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    return f"{name}: {exc}" if str(exc) else name


def _unique(recipients: Iterable[Any]) -> list[Any]:
    seen: set[Any] = set()
    found = []
    for recipient in recipients:
        if recipient is None:
            continue
        marker = recipient.lower() if isinstance(recipient, str) else ("user", recipient.pk)
        if marker not in seen:
            seen.add(marker)
            found.append(recipient)
    return found


def notify(
    recipients: Iterable[Any],
    message: Message,
    channels: Iterable[str],
    origin: Origin | None = None,
) -> dict[str, int]:
    """Send ``message`` to ``recipients`` (users or addresses) by each channel.

    Every channel is tried; returns {channel: recipients reached}.

    Raises:
        NotificationError: naming each channel that failed and why.
    """
    people = _unique(recipients)
    origin = origin or Origin()
    delivered: dict[str, int] = {}
    failures: dict[str, str] = {}
    for name in dict.fromkeys(channels):
        try:
            delivered[name] = get_channel(name).send(people, message, origin)
        except NotRegistered as exc:
            failures[name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - any channel error fails the delivery, named
            failures[name] = error_text(exc)
    if failures:
        raise NotificationError(failures, delivered)
    return delivered


@dataclass
class Outbox:
    """Sends a run's messages through the channels chosen in its config and sums up."""

    context: TaskContext
    default_channels: tuple[str, ...] = (IN_APP,)
    sent: int = 0
    delivered: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def channels(self) -> list[str]:
        chosen = self.context.config.get("channels")
        return list(chosen) if chosen else list(self.default_channels)

    def send(self, recipients: Iterable[Any], message: Message) -> bool:
        """Send one message; False if a channel failed (the run will fail and be retried)."""
        try:
            counts = notify(recipients, message, self.channels, Origin.of(self.context))
        except NotificationError as exc:
            self.failures.append(f"“{message.subject}”: {exc}")
            counts = exc.delivered
            ok = False
        else:
            self.sent += 1
            ok = True
        for name, count in counts.items():
            self.delivered[name] = self.delivered.get(name, 0) + count
        return ok

    def result(self, summary: str, data: dict[str, Any] | None = None) -> TaskResult:
        """Success with ``summary``, or a failure naming every failed channel (retried)."""
        payload = {**(data or {}), "messages": self.sent, "delivered": dict(self.delivered)}
        if self.failures:
            return TaskResult.failure(
                f"{len(self.failures)} notification(s) not delivered: " + " ".join(self.failures),
                data=payload,
            )
        return TaskResult.success(summary, data=payload)
