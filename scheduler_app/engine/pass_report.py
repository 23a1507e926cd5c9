"""What a pass is asked to do (PassOptions) and what it tells back (RunLine, PassReport)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from scheduler_app.engine.claiming import Filters
from scheduler_app.models import RunStatus


@dataclass
class PassOptions:
    filters: Filters = field(default_factory=Filters)
    max_tasks: int | None = None
    workers: int | None = None
    execution: str | None = None
    dry_run: bool = False
    force: bool = False
    now: dt.datetime | None = None  # injected clock for the due query (tests)


@dataclass
class RunLine:
    """One finished (or skipped) occurrence, for progress output."""

    task_id: int
    name: str
    status: str
    duration: float
    error: str = ""


@dataclass
class PassReport:
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    claimed: int = 0
    recovered: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    lost_leases: int = 0
    lock_degraded: bool = False
    due_preview: list[dict] = field(default_factory=list)

    def count(self, status: str) -> None:
        self.by_status[status] = self.by_status.get(status, 0) + 1

    @property
    def executed(self) -> int:
        return sum(n for s, n in self.by_status.items() if s != RunStatus.SKIPPED)

    def summary(self) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self.by_status.items())) or "nothing due"
        seconds = ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
        extra = f"; recovered {self.recovered} abandoned" if self.recovered else ""
        return f"Pass finished in {seconds:.2f} s: {parts}{extra}."
