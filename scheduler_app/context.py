"""What a task body receives when it runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


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

    @property
    def key(self) -> str:
        return f"{self.module_id}.{self.task_type}"

    def get_owner(self):  # noqa: ANN201 - returns the user model instance
        """Load the owner (one query), or None."""
        if self.owner_id is None:
            return None
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.owner_id).first()
