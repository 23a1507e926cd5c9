"""One scheduler pass: recover, claim, execute, record. Constant queries per batch.

A pass claims due tasks in batches (one transaction: lock, flip, insert the
log rows), hands them to the workers, and records outcomes in chunks (one
transaction: check the lease, update logs, update tasks). No per-task round
trip to the database or the lock cache.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from scheduler_app import conf
from scheduler_app.engine import claiming, event_runs, hooks, identity, locks, recording, recovery
from scheduler_app.engine.background import DatabaseThread, Job, PassThreads
from scheduler_app.engine.bulk import update_rows
from scheduler_app.engine.claiming import Lease
from scheduler_app.engine.pacing import ClaimPacer
from scheduler_app.engine.pass_report import PassOptions, PassReport, RunLine
from scheduler_app.engine.planning import plan_claimed
from scheduler_app.engine.run_signals import send_executing
from scheduler_app.engine.runspec import Outcome, RunSpec
from scheduler_app.engine.settle import LOG_STATUS, TASK_FIELDS
from scheduler_app.engine.workers import WorkerPool
from scheduler_app.models import (
    RunStatus,
    ScheduledTask,
    SchedulerHeartbeat,
    TaskExecutionLog,
    sql,
)

__all__ = ["PassOptions", "PassReport", "RunLine", "SchedulerPass", "make_pool", "run_pass"]

logger = logging.getLogger("scheduler_app.engine")

FLUSH_EVERY = 500
FLUSH_SECONDS = 0.5


class SchedulerPass:
    """Runs due tasks once.

    A daemon shares ``pool`` (the workers) and ``threads`` (the database threads)
    across its passes; given none, a pass makes its own and closes the threads.
    """

    def __init__(
        self,
        options: PassOptions | None = None,
        *,
        pool=None,  # noqa: ANN001
        threads: PassThreads | None = None,
        on_line: Callable[[RunLine], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.options = options or PassOptions()
        self.settings = conf.get()
        self.on_line = on_line
        self.should_stop = should_stop or (lambda: False)
        self.pool = pool
        self.threads = threads
        self.lease = Lease(identity.new_token(), identity.holder(), self.settings.LEASE_SECONDS)
        self.report = PassReport(started_at=timezone.now())
        self._rows: dict[int, dict] = {}
        self._buffer: list[Outcome] = []
        self._last_flush = time.monotonic()
        self._released: set[int] = set()
        self._chains: bool | None = None  # any on_success chains? asked once per pass
        self._claims: Counter[int] = Counter()
        # While workers run: the thread that claims, and the one that records and renews.
        self._db: DatabaseThread | None = None
        self._recorder: DatabaseThread | None = None
        self._counting = threading.Lock()  # the report is counted from both threads
        self._claim_job: Job | None = None
        self._last_renew = time.monotonic()
        self._pacer = self._make_pacer()

    # -- the pass ----------------------------------------------------------

    def run(self) -> PassReport:
        self._due_at = self.options.now or timezone.now()
        self._remaining = self.options.max_tasks
        try:
            if not self.options.dry_run:
                hooks.run_before(self)
            self.recover_expired()
            if self.options.dry_run:
                self.report.due_preview = list(
                    self.options.filters.apply(ScheduledTask.objects.due(self._due_at)).values(
                        "id", "name", "module_id", "task_type", "next_run", "priority"
                    )[: self.options.max_tasks or 1000]
                )
                return self.report
            while not self.should_stop():
                specs = self.next_batch()
                if specs is None:
                    break
                self.execute(specs)
        finally:
            self.report.finished_at = timezone.now()
        if not self.options.dry_run:
            self.record_heartbeat()
            hooks.run_after(self, self.report)
        return self.report

    def record_heartbeat(self) -> None:
        """One row per pass: the watchdog's proof that a scheduler is alive."""
        report = self.report
        try:
            SchedulerHeartbeat.objects.create(
                host=identity.host(),
                pid=identity.pid(),
                started_at=report.started_at,
                finished_at=report.finished_at or timezone.now(),
                claimed=report.claimed,
                executed=report.executed,
                recovered=report.recovered,
                failed=sum(
                    report.by_status.get(s, 0) for s in (RunStatus.FAILED, RunStatus.TIMEOUT)
                ),
                lock_degraded=report.lock_degraded,
            )
        except DatabaseError:
            logger.warning("Could not record the scheduler heartbeat.", exc_info=True)

    def next_batch(self) -> list[RunSpec] | None:
        """Claim the next batch within --max-tasks; None when nothing more is due."""
        size = self._pacer.size() if self._pacer else self.settings.BATCH_SIZE
        limit = size if self._remaining is None else min(size, self._remaining)
        if limit <= 0 or self.should_stop():
            return None
        claimed_before = self.report.claimed
        specs = self.claim_batch(self._due_at, limit)
        if specs is not None and self._remaining is not None:
            self._remaining -= max(1, self.report.claimed - claimed_before)
        if self._pacer is not None:
            self._pacer.on_claimed(len(specs or ()), size)
        return specs

    def _make_pacer(self) -> ClaimPacer | None:
        """Runs in this process's workers are paced; runs handed to a task queue are not."""
        if self._mode() == "tasks":
            return None
        return ClaimPacer(self._workers() or 1, self.settings.BATCH_SIZE)

    def _mode(self) -> str:
        return execution_mode(self.options, self.settings)

    def _workers(self) -> int:
        return worker_count(self.options, self.settings)

    # -- recovery ------------------------------------------------------------

    def recover_expired(self) -> int:
        """Close the runs of schedulers that died (lease expired) as abandoned; retry them."""
        recovered = recovery.recover_expired(self.settings)
        self.report.recovered += recovered
        return recovered

    # -- claiming ------------------------------------------------------------

    def claim_batch(self, due_at: dt.datetime, limit: int) -> list[RunSpec] | None:
        """Claim up to ``limit`` due tasks; None when nothing is due."""
        now = timezone.now()
        filters = self.options.filters
        with transaction.atomic():
            rows = claiming.claim_due(due_at, limit, filters, self.lease, now, self._released)
            if not rows:
                return None
            self._count_claims(rows)
            specs, skips = self._plan(rows, now)
            if skips:
                update_rows(ScheduledTask, TASK_FIELDS, skips)
        with self._counting:
            self.report.claimed += len(rows)
        return self._lock(specs)

    def _count_claims(self, rows: list[dict]) -> None:
        # A task due again within the pass (run_all catch-up) may be claimed again,
        # but never without bound: an injected clock far ahead must not loop forever.
        most = self.settings.MISFIRE_RUN_ALL_CAP + 2  # the replays, a skip row, and one spare
        for row in rows:
            self._claims[row["id"]] += 1
            if self._claims[row["id"]] >= most:
                self._released.add(row["id"])

    def _plan(self, rows: list[dict], now: dt.datetime) -> tuple[list[RunSpec], list[list]]:
        plan = plan_claimed(rows, now, self.settings)
        for row in rows:
            self._rows[row["id"]] = row
        with self._counting:
            for row, reason in plan.skipped:
                self.report.count(RunStatus.SKIPPED)
                self._line(row, RunStatus.SKIPPED, 0.0, reason)
        return plan.specs, plan.task_rows

    def _lock(self, specs: list[RunSpec]) -> list[RunSpec]:
        """Take the no-overlap locks in one round trip; give back what is locked elsewhere."""
        wanted = {
            spec.task_id: spec.timeout
            for spec in specs
            if not self._rows[spec.task_id]["allow_overlap"]
        }
        if self.options.force or not wanted:
            return specs
        got, degraded = locks.acquire_many(wanted, self.lease.holder)
        self.report.lock_degraded |= degraded
        blocked = [s for s in specs if s.task_id in wanted and s.task_id not in got]
        if blocked:
            claiming.release(self.lease, [s.task_id for s in blocked], [s.log_id for s in blocked])
            self._released.update(s.task_id for s in blocked)
            logger.info(
                "%d task(s) still locked by another run; left for a later pass.", len(blocked)
            )
        return [s for s in specs if s.task_id not in self._released]

    # -- execution -----------------------------------------------------------

    def execute(self, specs: list[RunSpec]) -> None:
        if not specs:
            return
        if self._mode() == "tasks":
            from scheduler_app.engine.handoff import enqueue

            enqueue(self, specs)
            return
        send_executing(self._rows, specs)
        if self.pool is None:
            self.pool = make_pool(self.options, self.settings)
        if isinstance(self.pool, WorkerPool):
            left = self._execute_in_workers(specs)
        else:
            left = self.pool.run(
                specs,
                self._collect,
                on_tick=self._tick,
                tick_every=FLUSH_SECONDS,
                should_stop=self.should_stop,
                keepalive=self._renew_now,
                keepalive_every=self.lease.seconds / 3,
            )
            self.flush()
        if left:
            claiming.release(self.lease, [s.task_id for s in left], [s.log_id for s in left])
            locks.release_many(s.task_id for s in left)

    def _execute_in_workers(self, specs: list[RunSpec]) -> list[RunSpec]:
        """Run ``specs`` and every later batch; the database work happens beside the workers."""
        shared = self.threads is not None
        threads = self.threads or PassThreads()
        self._db, self._recorder = threads.claims, threads.records
        self._claim_job = None
        try:
            left = self.pool.run(
                specs,
                self._collect,
                on_tick=self._tick,
                tick_every=min(FLUSH_SECONDS, self.lease.seconds / 3),
                should_stop=lambda: self.should_stop() or threads.failed,
                refill=self._refill,
                interrupts=self._interrupts,
                grace=self.settings.INTERRUPT_GRACE,
                fork_guard=threads.fork_guard(),
                await_refill=self._await_claim,
            )
            left += self._claimed_in_flight()
            self._submit_flush()
        finally:
            self._db = self._recorder = None
            # Every outcome is recorded before the pass ends, whoever keeps the threads.
            if shared:
                threads.drain()
            else:
                threads.close()
        return left

    def _claimed_in_flight(self) -> list[RunSpec]:
        """A claim still on its way when the pool stopped: its runs, to be given back."""
        job, self._claim_job = self._claim_job, None
        if job is None:
            return []
        job.done.wait()
        return list(job.result or ()) if self._db is not None and self._db.error is None else []

    @staticmethod
    def _interrupts(log_ids: list[int]) -> dict[int, str]:
        """Runs among ``log_ids`` someone asked to stop: {log id: who}.

        Asked twice a second by every busy scheduler, and almost always empty: the
        statement is written out (a fifth of the ORM's cost of building it each time).
        """
        if not log_ids:
            return {}
        column = sql.columns(TaskExecutionLog, connection)
        found: dict[int, str] = {}
        with connection.cursor() as cursor:
            for chunk in sql.chunks(log_ids):
                cursor.execute(
                    f"SELECT {column['id']}, {column['interrupt_requested_by']} "
                    f"FROM {sql.table(TaskExecutionLog, connection)} "
                    f"WHERE {column['id']} IN ({sql.placeholders(chunk)}) "
                    f"AND {column['interrupt_requested_at']} IS NOT NULL",
                    chunk,
                )
                found.update((int(pk), by) for pk, by in cursor.fetchall())
        return found

    def _refill(self) -> list[RunSpec] | None:
        """The next batch if its claim is done; [] while it is on its way; None when all is claimed."""
        assert self._db is not None  # set for the whole of the execution
        job = self._claim_job
        if job is None:
            if self._pacer is None or self._pacer.wants_more():
                self._claim_job = self._db.submit(self._claim_next)
            return []
        if not job.done.is_set():
            return []
        self._claim_job = None
        return job.result if self._db.error is None else None

    def _await_claim(self, seconds: float) -> None:
        job = self._claim_job
        if job is not None:
            job.done.wait(seconds)
        else:  # the pacer wants nothing yet: look again shortly
            time.sleep(min(seconds, 0.002))

    def _claim_next(self) -> list[RunSpec] | None:
        specs = self.next_batch()
        if specs:
            send_executing(self._rows, specs)
        return specs

    def _collect(self, outcome: Outcome) -> None:
        if self._pacer is not None:
            self._pacer.on_finished()
        self._buffer.append(outcome)
        if len(self._buffer) >= FLUSH_EVERY:
            self._submit_flush()

    def _tick(self) -> None:
        if self._buffer and time.monotonic() - self._last_flush >= FLUSH_SECONDS:
            self._submit_flush()
        if time.monotonic() - self._last_renew >= self.lease.seconds / 3:
            self._last_renew = time.monotonic()
            if self._recorder is not None:
                self._recorder.submit(claiming.renew, self.lease, timezone.now())
            else:
                claiming.renew(self.lease, timezone.now())

    def _renew_now(self) -> None:
        claiming.renew(self.lease, timezone.now())

    def _submit_flush(self) -> None:
        if self._recorder is None:
            self.flush()
            return
        outcomes, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        if outcomes:
            self._recorder.submit(self._record, outcomes)

    # -- recording -----------------------------------------------------------

    def flush(self) -> None:
        """Record buffered outcomes now: logs and tasks in one transaction."""
        outcomes, self._buffer = self._buffer, []
        self._last_flush = time.monotonic()
        if outcomes:
            self._record(outcomes)

    def _record(self, outcomes: list[Outcome]) -> None:
        if self._chains is None:
            self._chains = event_runs.chains_exist()
        lost = recording.record(
            outcomes, self._rows, self.lease, self.settings, chains=self._chains
        )
        with self._counting:
            self.report.lost_leases += lost
            for o in outcomes:
                status = LOG_STATUS[o.kind]
                self.report.count(status)
                self._line(self._rows[o.spec.task_id], status, o.duration, o.error)

    def mark_enqueued(self, task_id: int) -> None:
        """One run handed to the Tasks framework: counted and reported like every other."""
        self.report.count(RunStatus.ENQUEUED)
        self._line(self._rows[task_id], RunStatus.ENQUEUED, 0.0, "")

    def _line(self, row: dict, status: str, duration: float, error: str) -> None:
        if self.on_line is not None:
            self.on_line(RunLine(row["id"], row["name"], status, duration, error))


def run_pass(options: PassOptions | None = None, **kwargs) -> PassReport:  # noqa: ANN003
    """Run one pass and return its report (the worker pool is closed at the end; threads
    given in ``threads`` are left to their owner)."""
    scheduler_pass = SchedulerPass(options, **kwargs)
    try:
        return scheduler_pass.run()
    finally:
        if scheduler_pass.pool is not None:
            scheduler_pass.pool.close()


def execution_mode(options: PassOptions, settings: conf.SchedulerSettings) -> str:
    return options.execution or settings.EXECUTION


def worker_count(options: PassOptions, settings: conf.SchedulerSettings) -> int:
    if execution_mode(options, settings) == "inline":
        return 0
    return options.workers if options.workers is not None else settings.WORKERS


def make_pool(options: PassOptions, settings: conf.SchedulerSettings | None = None):  # noqa: ANN201
    """The pool the passes of ``options`` run bodies in; None where runs go to a task queue."""
    from scheduler_app.engine.inline_pool import InlinePool

    settings = settings or conf.get()
    if execution_mode(options, settings) == "tasks":
        return None
    workers = worker_count(options, settings)
    if workers == 0:
        return InlinePool(settings.OUTPUT_LIMIT)
    return WorkerPool(workers, settings.OUTPUT_LIMIT)
