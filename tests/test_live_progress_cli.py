"""runscheduler / scheduler_run: live progress of this process's runs, bars or plain lines."""

from __future__ import annotations

import datetime as dt
import io
import signal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.utils import timezone

from scheduler_app.engine import identity
from scheduler_app.management.live_progress import (
    LiveProgress,
    PlainProgress,
    RichProgress,
    is_terminal,
    make_display,
    progress_line,
)
from scheduler_app.models import RunStatus, TaskExecutionLog
from scheduler_app.services import live

pytestmark = pytest.mark.django_db


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_here(task, **fields) -> TaskExecutionLog:  # noqa: ANN001
    """A run this very process is running (its host and pid)."""
    values = {
        "run_id": f"cli{task.pk}",
        "scheduled_for": timezone.now(),
        "status": RunStatus.RUNNING,
        "started_at": timezone.now() - dt.timedelta(seconds=30),
        "host": identity.host(),
        "pid": identity.pid(),
        "progress_done": 25,
        "progress_total": 100,
        "progress_message": "Writing rows\nsecond line",
        **fields,
    }
    return TaskExecutionLog.objects.create(task=task, **values)


def test_a_plain_line_per_change_of_progress(make_task):
    task = make_task("noop", name="Monthly report")
    log = run_here(task)
    TaskExecutionLog.objects.create(  # another scheduler's run is not this command's
        task=make_task("noop"),
        run_id="elsewhere",
        scheduled_for=timezone.now(),
        status=RunStatus.RUNNING,
        host="other-host",
        pid=1,
        progress_done=1,
    )
    lines: list[str] = []
    watcher = LiveProgress(PlainProgress(lines.append))
    watcher.poll()
    watcher.poll()  # nothing changed: no new line
    TaskExecutionLog.objects.filter(pk=log.pk).update(progress_done=50)
    watcher.poll()
    assert len(lines) == 2
    assert lines[0].startswith(f"#{task.pk} Monthly report: 25/100 (25.0 %) Writing rows, ")
    assert lines[1].startswith(f"#{task.pk} Monthly report: 50/100 (50.0 %)")


def test_the_line_says_what_is_known(make_task):
    task = make_task("noop", name="Sync")
    log = run_here(task, progress_done=None, progress_total=None, progress_message="")
    run = live.describe(log, task, now=timezone.now(), typical=None)
    assert progress_line(run).startswith(f"#{task.pk} Sync: running, ")
    log = run_here(task, run_id="b", progress_done=7, progress_total=None)
    run = live.describe(log, task, now=timezone.now(), typical=None)
    assert f"#{task.pk} Sync: 7 Writing rows" in progress_line(run)
    run = live.describe(run_here(task, run_id="c"), task, now=timezone.now(), typical=60.0)
    assert "about 45 s left" in progress_line(run)  # 25 % of a typical 60 s run


def test_a_terminal_gets_rich_bars(make_task):
    task = make_task("noop", name="Monthly report")
    run_here(task)
    screen = Tty()
    bars = RichProgress(screen)
    watcher = LiveProgress(bars)
    assert [run.done for run in watcher.poll()] == [25]
    assert len(bars.bars) == 1
    drawn = screen.getvalue()
    assert "Monthly report" in drawn and "25/100" in drawn and "Writing rows" in drawn
    TaskExecutionLog.objects.update(status=RunStatus.SUCCESS)
    watcher.poll()
    assert bars.bars == {}  # a finished run's bar goes
    bars.close()


def test_bars_only_on_a_terminal():
    assert not is_terminal(OutputWrapper(StringIO()))
    assert is_terminal(OutputWrapper(Tty()))
    assert isinstance(make_display(OutputWrapper(StringIO())), PlainProgress)
    display = make_display(OutputWrapper(Tty()))
    assert isinstance(display, RichProgress)
    display.close()


def test_the_watcher_thread_starts_and_stops_with_the_block(make_task):
    lines: list[str] = []
    with LiveProgress(PlainProgress(lines.append), interval=3600) as watcher:
        assert watcher._thread is not None and watcher._thread.is_alive()
    assert not watcher._thread.is_alive()


def test_scheduler_run_still_prints_its_result_line(make_task, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    task = make_task("noop", name="Quick")
    out = StringIO()
    call_command("scheduler_run", str(task.pk), "--workers", "0", stdout=out)
    assert out.getvalue().startswith(f"#{task.pk} Quick: success")


# -- which runscheduler shows it ------------------------------------------------------------


@pytest.fixture
def shown(monkeypatch):
    """The displays runscheduler's LiveProgress blocks used; each block polls once more as
    it ends (a short run may end before the thread's first poll)."""
    displays: list = []
    real_exit = LiveProgress.__exit__

    def exit_and_record(self, *exc: object) -> None:  # noqa: ANN001
        displays.append(self.display)
        self.poll()
        real_exit(self, *exc)

    monkeypatch.setattr(LiveProgress, "__exit__", exit_and_record)
    return displays


@pytest.fixture
def signal_handlers():
    """A --loop installs its SIGTERM/SIGINT handlers; put pytest's back."""
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGTERM, handlers[0])
    signal.signal(signal.SIGINT, handlers[1])


def runscheduler(out: io.StringIO, **options) -> list[str]:  # noqa: ANN003
    call_command("runscheduler", stdout=out, stderr=out, workers=0, **options)
    return out.getvalue().splitlines()


def test_a_loop_prints_plain_progress_lines_where_its_output_is_not_a_terminal(
    make_task, shown, signal_handlers
):
    task = make_task("noop", name="Monthly report")
    run_here(task)
    lines = runscheduler(io.StringIO(), loop=True, sleep=0, max_passes=1)
    assert [type(display) for display in shown] == [PlainProgress]
    assert any(
        line.startswith(f"#{task.pk} Monthly report: 25/100 (25.0 %) Writing rows, ")
        for line in lines
    ), lines


def test_a_quiet_loop_shows_no_progress(make_task, shown, signal_handlers):
    run_here(make_task("noop"))
    assert runscheduler(io.StringIO(), loop=True, sleep=0, max_passes=1, verbosity=0) == []
    assert shown == []


def test_a_one_shot_pass_shows_progress_on_a_terminal_only(make_task, shown):
    run_here(make_task("noop"))
    lines = runscheduler(io.StringIO())
    assert shown == []  # crontab: the log gets the runs' lines and the summary, no progress
    assert not any("25/100" in line for line in lines)
    runscheduler(Tty())
    assert [type(display) for display in shown] == [RichProgress]
    runscheduler(Tty(), dry_run=True)
    runscheduler(Tty(), verbosity=0)
    assert len(shown) == 1


def test_plain_lines_poll_only_runs_that_report_progress(make_task, django_assert_num_queries):
    silent = run_here(make_task("noop", name="Silent"), progress_done=None, progress_total=None)
    watcher = LiveProgress(PlainProgress([].append))
    # A daemon polls twice a second: with no run reporting progress, one query, no history.
    with django_assert_num_queries(1):
        assert watcher.poll() == []
    TaskExecutionLog.objects.filter(pk=silent.pk).update(progress_done=3)
    assert [run.id for run in watcher.poll()] == [silent.pk]


def test_bars_show_every_running_run(make_task):
    silent = run_here(make_task("noop", name="Silent"), progress_done=None, progress_total=None)
    screen = Tty()
    bars = RichProgress(screen)
    try:
        assert [run.id for run in LiveProgress(bars).poll()] == [silent.pk]
    finally:
        bars.close()


def test_plain_lines_of_chosen_tasks_only(make_task):
    mine = run_here(make_task("noop", name="Mine"))
    run_here(make_task("noop", name="Other"), run_id="cli-other")
    watcher = LiveProgress(PlainProgress([].append), task_ids=[mine.task_id])
    assert [run.id for run in watcher.poll()] == [mine.pk]
    assert len(LiveProgress(PlainProgress([].append)).poll()) == 2
