"""Pause windows: a module (or everything) paused until a time, resumed by the next pass after it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import PauseWindow, TaskExecutionLog
from scheduler_app.services import pause_windows

HOUR = dt.timedelta(hours=1)
ADMIN = "scheduler_app.SA_SCHEDULER_ADMIN"
TESTMOD_ADMIN = "scheduler_app.SA_TESTMOD_ADMIN"


def status(task) -> str:
    task.refresh_from_db()
    return task.status


@pytest.mark.django_db
def test_opening_a_window_pauses_the_modules_pending_tasks_only(make_task):
    pending = make_task()
    by_hand = make_task()
    services.pause(by_hand, user=None)
    window = pause_windows.open_window(
        user=None, module_id="testmod", until=timezone.now() + HOUR, reason="database upgrade"
    )
    assert status(pending) == "paused"
    assert list(window.tasks.all()) == [pending]
    event = pending.audit_events.get(action="paused")
    assert "database upgrade" in event.changes["pause_window"][1]


@pytest.mark.django_db(transaction=True)
def test_the_pass_after_the_end_resumes_the_tasks_on_time_with_an_injected_clock(inline, make_task):
    start = timezone.now()
    task = make_task(cron="*/5 * * * *")
    by_hand = make_task()
    services.pause(by_hand, user=None)
    window = pause_windows.open_window(
        user=None, module_id="", until=start + HOUR, reason="freeze", now=start
    )
    # Just before the end: still paused.
    run_pass(PassOptions(now=start + HOUR - dt.timedelta(seconds=1)))
    assert status(task) == "paused"
    window.refresh_from_db()
    assert window.lifted_at is None
    # At the end: resumed, next run computed from the end, the hand-paused task left alone.
    end = start + HOUR
    run_pass(PassOptions(now=end))
    assert status(task) == "pending"
    assert task.next_run > end and task.next_run <= end + dt.timedelta(minutes=5)
    assert status(by_hand) == "paused"
    window.refresh_from_db()
    assert window.lifted_at == end and window.lifted_by == "system"
    assert task.audit_events.filter(action="resumed").count() == 1


@pytest.mark.django_db
def test_a_window_that_starts_later_pauses_its_tasks_when_it_begins(make_task):
    now = timezone.now()
    task = make_task()
    window = pause_windows.open_window(
        user=None,
        module_id="testmod",
        starts_at=now + HOUR,
        until=now + 2 * HOUR,
        reason="maintenance",
        now=now,
    )
    assert status(task) == "pending"
    pause_windows.before_pass(type("Pass", (), {"options": PassOptions(now=now + HOUR)})())
    assert status(task) == "paused"
    assert list(window.tasks.all()) == [task]


@pytest.mark.django_db(transaction=True)
def test_a_task_running_when_the_window_opened_is_skipped_until_the_end(inline, make_task):
    task = make_task(due=timezone.now() - dt.timedelta(seconds=1))
    type(task).objects.filter(pk=task.pk).update(status="running")
    pause_windows.open_window(
        user=None, module_id="testmod", until=timezone.now() + HOUR, reason="hands off"
    )
    type(task).objects.filter(pk=task.pk).update(status="pending")
    run_pass()
    log = TaskExecutionLog.objects.get(task=task)
    assert log.status == "skipped" and "hands off" in log.error_message


@pytest.mark.django_db
def test_lifting_early_moves_tasks_covered_by_another_window_instead_of_resuming(make_task):
    now = timezone.now()
    task = make_task()
    first = pause_windows.open_window(user=None, module_id="testmod", until=now + HOUR, reason="a")
    second = pause_windows.open_window(user=None, module_id="", until=now + 2 * HOUR, reason="b")
    assert pause_windows.lift(first, user=None) == 0
    assert status(task) == "paused"
    assert list(second.tasks.all()) == [task]
    assert pause_windows.lift(second, user=None) == 1
    assert status(task) == "pending"


@pytest.mark.django_db
def test_module_admins_pause_their_module_scheduler_admins_everything(make_user):
    until = timezone.now() + HOUR
    module_admin = make_user(TESTMOD_ADMIN)
    assert pause_windows.open_window(
        user=module_admin, module_id="testmod", until=until, reason="x"
    )
    with pytest.raises(PermissionDenied):
        pause_windows.open_window(user=module_admin, module_id="", until=until, reason="x")
    with pytest.raises(PermissionDenied):
        pause_windows.open_window(
            user=make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD"),
            module_id="testmod",
            until=until,
            reason="x",
        )
    assert pause_windows.open_window(user=make_user(ADMIN), module_id="", until=until, reason="x")


@pytest.mark.django_db
def test_bad_windows_are_field_errors():
    with pytest.raises(ValidationError) as info:
        pause_windows.open_window(
            user=None, module_id="testmod", until=timezone.now() - HOUR, reason=""
        )
    assert set(info.value.message_dict) == {"ends_at", "reason"}
    with pytest.raises(ValidationError) as info:
        pause_windows.open_window(
            user=None, module_id="nope", until=timezone.now() + HOUR, reason="x"
        )
    assert "module_id" in info.value.message_dict


@pytest.mark.django_db
def test_the_command_opens_lists_and_ends_windows(make_task, make_user):
    task = make_task()
    out = StringIO()
    call_command(
        "scheduler_pause_window",
        "--module",
        "testmod",
        "--for",
        "2h",
        "--reason",
        "release",
        stdout=out,
    )
    window = PauseWindow.objects.get()
    assert "Paused 1 task" in out.getvalue() and status(task) == "paused"
    out = StringIO()
    call_command("scheduler_pause_window", "--list", stdout=out)
    assert "release" in out.getvalue()
    call_command("scheduler_pause_window", "--end", str(window.pk), stdout=StringIO())
    assert status(task) == "pending"
    make_user(username="plain")
    with pytest.raises(CommandError, match="Only scheduler administrators"):
        call_command(
            "scheduler_pause_window",
            "--until",
            "2099-01-01T00:00Z",
            "--reason",
            "x",
            "--as-user",
            "plain",
            stdout=StringIO(),
        )


@pytest.mark.django_db
def test_the_admin_opens_a_window_through_the_service_and_ends_it(client, make_user, make_task):
    task = make_task()
    module_admin = make_user(TESTMOD_ADMIN, is_staff=True)
    client.force_login(module_admin)
    until = (timezone.now() + HOUR).astimezone(dt.UTC)
    form = {
        "module_id": "testmod",
        "reason": "upgrade",
        "starts_at_0": timezone.now().strftime("%Y-%m-%d"),
        "starts_at_1": timezone.now().strftime("%H:%M:%S"),
        "ends_at_0": until.strftime("%Y-%m-%d"),
        "ends_at_1": until.strftime("%H:%M:%S"),
    }
    # Only the modules one administers are offered; "every module" is for scheduler admins.
    refused = client.post("/admin/scheduler_app/pausewindow/add/", {**form, "module_id": ""})
    assert refused.status_code == 200 and not PauseWindow.objects.exists()
    response = client.post("/admin/scheduler_app/pausewindow/add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    window = PauseWindow.objects.get()
    assert window.created_by == module_admin and status(task) == "paused"
    client.post(
        "/admin/scheduler_app/pausewindow/", {"action": "end_now", "_selected_action": [window.pk]}
    )
    assert status(task) == "pending"


@pytest.mark.django_db
@examples(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    windows=st.lists(
        st.tuples(
            st.integers(-120, 120),  # starts, minutes from now
            st.integers(0, 240),  # lasts, minutes (0: ends as it starts)
            st.booleans(),  # lifted
        ),
        max_size=4,
    ),
    seconds=st.integers(-90, 90),
)
def test_the_claims_probe_agrees_with_the_active_windows(windows, seconds):
    """The written-out statement a claim asks first says what ``active()`` says, on the
    boundaries too (a window starting or ending at the very second)."""
    PauseWindow.objects.all().delete()
    now = timezone.now().replace(microsecond=0)
    for starts, lasts, lifted in windows:
        begin = now + dt.timedelta(minutes=starts)
        PauseWindow.objects.create(
            reason="probe",
            starts_at=begin,
            ends_at=begin + dt.timedelta(minutes=lasts),
            lifted_at=now if lifted else None,
        )
    for at in (now, now + dt.timedelta(seconds=seconds)):
        assert pause_windows._any_active(at) == PauseWindow.objects.active(at).exists()
        for starts, lasts, _lifted in windows:  # each window's own edges
            edge = now + dt.timedelta(minutes=starts)
            for moment in (edge, edge + dt.timedelta(minutes=lasts)):
                assert pause_windows._any_active(moment) == (
                    PauseWindow.objects.active(moment).exists()
                )


@pytest.mark.django_db
def test_the_pass_hook_asks_once_and_stops_when_no_window_is_left(django_assert_num_queries):
    now = timezone.now()
    with django_assert_num_queries(1):  # a site without windows: one question per pass
        pause_windows.before_pass(None)
    window = PauseWindow.objects.create(
        reason="later", starts_at=now + HOUR, ends_at=now + 2 * HOUR
    )
    assert pause_windows._any_unlifted()
    PauseWindow.objects.filter(pk=window.pk).update(lifted_at=now)
    assert not pause_windows._any_unlifted()
