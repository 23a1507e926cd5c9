"""What crosses the process boundary: a run to execute and its outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Outcome kinds (a superset of log statuses: the engine maps them).
SUCCESS = "success"
FAILED = "failed"
TIMEOUT = "timeout"
SKIPPED = "skipped"
PENDING = "pending"
CONDITION_UNMET = "condition_unmet"
CANCELLED = "cancelled"  # stopped on request (services.interrupt)


class Stop(BaseException):
    """The engine's own ways of ending a body (a timeout, a stop request).

    Everything else a body raises is caught and logged as its failure; these
    pass through every handler to the code that raised them on purpose.
    """


@dataclass
class RunSpec:
    """One run of one task: enough to execute it without the database row."""

    log_id: int
    task_id: int
    module_id: str
    task_type: str
    name: str
    config: dict[str, Any]
    scheduled_for: dt.datetime  # the slot of its log row (never empty)
    attempt: int
    run_id: str
    owner_id: int | None
    timezone: str
    timeout: int
    schedule_type: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """How a run ended, reported by the worker (or by the engine for crashes)."""

    spec: RunSpec
    kind: str
    started_at: dt.datetime
    finished_at: dt.datetime
    message: str = ""
    data: Any = None
    retry: bool = True
    retry_delay: float | None = None
    next_run: dt.datetime | None = None
    error: str = ""
    traceback: str = ""
    output: str = ""
    # The stored row cannot run as it is (module gone, config invalid, checks raise).
    unrunnable: bool = False

    @property
    def duration(self) -> float:
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


def pack(outcome: Outcome) -> tuple:
    """What a worker sends back: the outcome without its spec (the parent has it)."""
    return (
        outcome.kind,
        outcome.started_at.timestamp(),
        outcome.finished_at.timestamp(),
        outcome.message,
        outcome.data,
        outcome.retry,
        outcome.retry_delay,
        outcome.next_run,
        outcome.error,
        outcome.traceback,
        outcome.output,
        outcome.unrunnable,
    )


def unpack(spec: RunSpec, packed: tuple) -> Outcome:
    (
        kind,
        started,
        finished,
        message,
        data,
        retry,
        retry_delay,
        next_run,
        error,
        tb,
        output,
        unrunnable,
    ) = packed
    return Outcome(
        spec,
        kind,
        dt.datetime.fromtimestamp(started, dt.UTC),
        dt.datetime.fromtimestamp(finished, dt.UTC),
        message=message,
        data=data,
        retry=retry,
        retry_delay=retry_delay,
        next_run=next_run,
        error=error,
        traceback=tb,
        output=output,
        unrunnable=unrunnable,
    )
