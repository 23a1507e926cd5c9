"""What a task body receives when it runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Receives ``(done, total, message)`` from :meth:`TaskContext.progress`; set by the engine.
ProgressSink = Callable[[Any, Any, Any], None]


@dataclass
class TaskContext:
    """The run a task body is executing: its task, config and occurrence."""

    task_id: int
    module_id: str
    task_type: str
    name: str
    config: dict[str, Any]
    scheduled_for: dt.datetime | None
    attempt: int = 1
    run_id: str = ""
    owner_id: int | None = None
    timezone: str = "UTC"
    payload: dict[str, Any] = field(default_factory=dict)
    # Where progress() goes: the engine's throttled writer; None (a context built by hand): nowhere.
    progress_sink: ProgressSink | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.progress_sink is not None:
            # A body may call progress() in its tightest loop: one call to the engine's
            # writer, not two (this instance attribute stands in for the method below).
            self.progress = self.progress_sink  # type: ignore[method-assign,assignment]

    @property
    def key(self) -> str:
        return f"{self.module_id}.{self.task_type}"

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        """Report how far the run is: ``done`` of ``total`` units (total unknown: None).

        Cheap enough for a tight loop: the engine writes at most one update per
        ``PROGRESS_INTERVAL`` seconds and keeps only the newest values between.

        Raises:
            ValueError: ``done`` or ``total`` is not a number of 0 or more.
        """
        if self.progress_sink is not None:
            self.progress_sink(done, total, message)

    def get_owner(self):  # noqa: ANN201 - returns the user model instance
        """Load the owner (one query), or None."""
        if self.owner_id is None:
            return None
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.owner_id).first()
