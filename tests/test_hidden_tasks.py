"""Commands acting --as-user report a task (or run, window, calendar) the user may not see
exactly like one that does not exist: no command tells a hidden one from a missing one."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from scheduler_app.models import TaskExecutionLog
from scheduler_app.services import calendars, pause_windows, transfer

MISSING_ID = 10**9


@pytest.fixture
def stranger(make_user):
    """Logged in and with a module of its own, but no right on testmod's tasks."""
    return make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_CRM", username="eve")


@pytest.fixture
def hidden(make_user, make_task):
    owner = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD", username="olga")
    return make_task(owner=owner, name="Secret payroll", cron="0 2 * * *")


def answer(*args) -> str:
    """The command's error line (or its output), the way a person sees it."""
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return "error: " + str(exc)
    return out.getvalue()


def export_file(tmp_path, name: str, *, calendar: str | None = None):
    entry = {
        "module": "testmod",
        "task_type": "record",
        "name": name,
        "config": {"note": ""},
        "schedule_type": "cron",
        "cron": "0 3 * * *",
        "timezone": "UTC",
        "calendars": [calendar] if calendar else [],
    }
    data = {
        "format": transfer.FORMAT,
        "version": transfer.VERSION,
        "calendars": [{"name": calendar, "periods": []}] if calendar else [],
        "tasks": [entry],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_import_answers_alike_for_a_hidden_task_and_a_missing_one(tmp_path, stranger, hidden):
    existing = answer(
        "scheduler_import", export_file(tmp_path, hidden.name), "--dry-run", "--as-user", "eve"
    )
    missing = answer(
        "scheduler_import", export_file(tmp_path, "No such task"), "--dry-run", "--as-user", "eve"
    )
    assert existing.startswith("error: Nothing was imported")
    assert existing.replace(hidden.name, "X") == missing.replace("No such task", "X")
    assert "edit" not in existing


def test_import_answers_alike_for_a_hidden_calendar_and_a_missing_one(tmp_path, make_user):
    calendars.create_calendar(user=None, name="Board meetings")
    make_user(username="mallory")  # no permission at all
    existing = answer(
        "scheduler_import",
        export_file(tmp_path, "a", calendar="Board meetings"),
        "--dry-run",
        "--as-user",
        "mallory",
    )
    missing = answer(
        "scheduler_import",
        export_file(tmp_path, "a", calendar="No such calendar"),
        "--dry-run",
        "--as-user",
        "mallory",
    )
    assert existing.replace("Board meetings", "X") == missing.replace("No such calendar", "X")


def test_import_answers_alike_for_an_owner_who_exists_and_one_who_does_not(tmp_path, make_user):
    make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD", username="ursula")
    make_user(username="carol")
    answers = []
    for owner in ("carol", "nobody"):
        data = json.loads(open(export_file(tmp_path, "Mine")).read())
        data["tasks"][0]["owner"] = owner
        path = tmp_path / f"{owner}.json"
        path.write_text(json.dumps(data))
        text = answer("scheduler_import", str(path), "--dry-run", "--as-user", "ursula")
        answers.append(text.replace(owner, "X"))
    assert answers[0] == answers[1] and answers[0].startswith("error: Nothing was imported")


def test_export_of_a_hidden_id_is_the_export_of_a_missing_one(stranger, hidden):
    existing = json.loads(answer("scheduler_export", "--id", str(hidden.pk), "--as-user", "eve"))
    missing = json.loads(answer("scheduler_export", "--id", str(MISSING_ID), "--as-user", "eve"))
    assert existing["tasks"] == missing["tasks"] == []


@pytest.mark.parametrize("command", ["scheduler_run", "scheduler_clear_locks"])
def test_commands_taking_a_task_id_answer_alike(command, stranger, hidden):
    existing = answer(command, str(hidden.pk), "--as-user", "eve")
    missing = answer(command, str(MISSING_ID), "--as-user", "eve")
    assert existing.replace(str(hidden.pk), "N") == missing.replace(str(MISSING_ID), "N")
    assert existing.startswith("error: No scheduled task with id")


@pytest.mark.parametrize("key", ["run_id", "pk"])
def test_interrupt_answers_alike_for_a_hidden_run_and_a_missing_one(key, stranger, hidden):
    log = TaskExecutionLog.objects.create(
        task=hidden,
        run_id="a" * 32,
        status="running",
        started_at=timezone.now(),
        scheduled_for=timezone.now(),
    )
    shown = log.run_id if key == "run_id" else str(log.pk)
    absent = "b" * 32 if key == "run_id" else str(MISSING_ID)
    existing = answer("scheduler_interrupt", shown, "--as-user", "eve")
    missing = answer("scheduler_interrupt", absent, "--as-user", "eve")
    assert existing.replace(shown, "N") == missing.replace(absent, "N")


@pytest.mark.parametrize("key", ["²", "1" * 40, "-1", "x" * 10_000])
def test_interrupt_refuses_odd_run_ids_in_one_line(key, stranger):
    text = answer("scheduler_interrupt", key, "--as-user", "eve")
    assert text.startswith("error: No run") and len(text) < 120 and "\n" not in text


def test_ending_a_hidden_pause_window_answers_like_a_missing_one(make_user):
    make_user("scheduler_app.SA_CRM_ADMIN", username="otto")
    window = pause_windows.open_window(
        user=None,
        module_id="testmod",
        until=timezone.now() + dt.timedelta(hours=1),
        reason="Secret migration",
    )
    existing = answer("scheduler_pause_window", "--end", str(window.pk), "--as-user", "otto")
    missing = answer("scheduler_pause_window", "--end", str(MISSING_ID), "--as-user", "otto")
    assert existing.replace(str(window.pk), "N") == missing.replace(str(MISSING_ID), "N")
    listed = answer("scheduler_pause_window", "--list", "--as-user", "otto")
    assert "Secret migration" not in listed
    assert "Secret migration" in answer("scheduler_pause_window", "--list")


@pytest.mark.parametrize(
    "args",
    [
        ["scheduler_export", "--id"],
        ["scheduler_run"],
        ["scheduler_pause_window", "--end"],
    ],
)
@pytest.mark.parametrize("value", ["1" * 25, "-5", "²", "0x10", "x" * 5000])
def test_commands_refuse_ids_no_database_holds_in_one_line(args, value, db):
    text = answer(*args, value)
    assert text.startswith("error: ") and "not an id" in text and len(text) < 200
