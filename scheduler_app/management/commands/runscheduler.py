"""The scheduler: run every due task, one pass (for crontab) or ``--loop`` as a daemon.

Not to be confused with ``scheduler_run``, which runs one chosen task now.
"""

from __future__ import annotations

import gc
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.passes import PassOptions, PassReport, RunLine, run_pass
from scheduler_app.management.terminal import is_terminal

SYMBOLS = {
    "success": "ok",
    "failed": "FAILED",
    "timeout": "TIMEOUT",
    "skipped": "skipped",
    "abandoned": "abandoned",
    "enqueued": "enqueued",
}


class Command(BaseCommand):
    help = (
        "The scheduler: run every task that is due (one pass, for crontab), or keep running "
        "with --loop. To run one chosen task now, use scheduler_run TASK_ID."
    )
    # A crontab pass must start fast; `--check` runs the scheduler's checks itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--loop", action="store_true", help="Keep running passes until SIGTERM/SIGINT."
        )
        parser.add_argument(
            "--sleep", type=float, default=None, help="Seconds between passes with --loop."
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Verify configuration, database, lock backend and providers; exit.",
        )
        parser.add_argument("--module", help="Only tasks of this module.")
        parser.add_argument(
            "--tag", action="append", default=[], help="Only tasks with this tag (repeatable)."
        )
        parser.add_argument(
            "--task",
            type=int,
            action="append",
            default=[],
            dest="task_ids",
            help="Only this task id (repeatable).",
        )
        parser.add_argument(
            "--max-tasks", type=int, help="Claim at most this many tasks in this pass."
        )
        parser.add_argument(
            "--workers", type=int, help="Worker processes (0 runs bodies in this process)."
        )
        parser.add_argument("--dry-run", action="store_true", help="List what is due; run nothing.")
        parser.add_argument("--max-passes", type=int, help=argparse_hidden())

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if options["check"]:
            return self._check()
        for name in ("max_tasks", "workers"):
            if options[name] is not None and options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must be 0 or more.")
        pass_options = PassOptions(
            filters=Filters(
                module=options["module"],
                tags=tuple(options["tag"]),
                task_ids=tuple(options["task_ids"]),
            ),
            max_tasks=options["max_tasks"],
            workers=options["workers"],
            dry_run=options["dry_run"],
        )
        verbosity = options["verbosity"]
        on_line = self._print_line if verbosity >= 1 else None
        # Run as its own process (crontab, a service): what Django's start-up built lives
        # until exit, so move it out of the collector's reach; collections in the pass do not
        # walk it again and forked workers do not touch (copy) its pages. Called from code
        # (tests, call_command) the process is not ours to freeze.
        own_process = getattr(self, "_called_from_command_line", False)
        if own_process:
            gc.freeze()
        try:
            if options["loop"]:
                return self._loop(pass_options, options, on_line)
            # A crontab pass stays quiet: its progress shows on a terminal only, and only
            # then is the live progress (with the services it reads) imported.
            if verbosity >= 1 and not pass_options.dry_run and is_terminal(self.stdout):
                from scheduler_app.management.live_progress import LiveProgress, make_display

                with LiveProgress(make_display(self.stdout)):
                    report = run_pass(pass_options, on_line=on_line)
            else:
                report = run_pass(pass_options, on_line=on_line)
        except DatabaseError as exc:
            raise CommandError(f"Database error: {str(exc).strip().splitlines()[0]}") from exc
        self._print_report(report, pass_options, verbosity)
        if own_process:
            # The process ends now: spare it the final collection of all that is left
            # (about 0.1 s of a one-shot process); the memory goes back with the process.
            gc.freeze()

    def _loop(self, pass_options: PassOptions, options: dict, on_line) -> None:  # noqa: ANN001
        from scheduler_app import conf
        from scheduler_app.engine.loop import SchedulerLoop

        sleep = options["sleep"] if options["sleep"] is not None else conf.get().LOOP_SLEEP
        if sleep < 0:
            raise CommandError("--sleep must be 0 or more.")
        verbosity = options["verbosity"]
        loop = SchedulerLoop(
            pass_options,
            sleep=sleep,
            on_line=on_line,
            max_passes=options["max_passes"],
            on_pass=(lambda r: self.stdout.write(r.summary())) if verbosity >= 2 else None,
        )
        loop.install_signal_handlers()
        if verbosity >= 1:
            self.stdout.write(
                f"Scheduler running (every {sleep:g} s); stop with SIGTERM or Ctrl-C."
            )
        if verbosity >= 1:
            # A daemon shows its runs' progress wherever its output goes: bars on a
            # terminal, else a plain line per change (a service's log).
            from scheduler_app.management.live_progress import LiveProgress, make_display

            with LiveProgress(make_display(self.stdout)):
                passes = loop.run()
        else:
            passes = loop.run()
        if verbosity >= 1:
            self.stdout.write(f"Scheduler stopped after {passes} pass(es).")

    def _check(self) -> None:
        from scheduler_app.monitoring.health import problems

        found = problems()
        for line in found:
            self.stderr.write(line)
        if found:
            sys.exit(1)
        self.stdout.write("Scheduler check passed.")

    def _print_line(self, line: RunLine) -> None:
        text = f"#{line.task_id} {line.name}: {SYMBOLS.get(line.status, line.status)} ({line.duration:.2f} s)"
        if line.error:
            text += f" - {line.error.splitlines()[0][:200]}"
        self.stdout.write(text)

    def _print_report(self, report: PassReport, options: PassOptions, verbosity: int) -> None:
        if options.dry_run:
            for row in report.due_preview:
                self.stdout.write(
                    f"due: #{row['id']} {row['name']} ({row['module_id']}.{row['task_type']}, "
                    f"priority {row['priority']}, next run {row['next_run']:%Y-%m-%d %H:%M:%S %Z})"
                )
            self.stdout.write(
                f"{len(report.due_preview)} task(s) due; nothing was run (--dry-run)."
            )
            return
        if verbosity >= 1:
            self.stdout.write(report.summary())


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
