"""Use cases through scheduler_app.services: validation first, then state, then signals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from scheduler_app import services
from scheduler_app.models import ScheduledTask, TaskStatus
from scheduler_app.signals import task_cancelled, task_scheduled

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SCHEDULER = "scheduler_app.SA_SCHEDULER"
TESTMOD = "scheduler_app.SA_TESTMOD"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def new_task(now: dt.datetime, user=None, **kwargs) -> ScheduledTask:
    kwargs.setdefault("module", "testmod")
    kwargs.setdefault("task_type", "record")
    kwargs.setdefault("schedule_type", "cron")
    kwargs.setdefault("cron", "0 6 * * *")
    kwargs.setdefault("config", {"note": "hello"})
    return services.schedule(user=user, now=now, **kwargs)


def status_of(task: ScheduledTask) -> str:
    return ScheduledTask.objects.values_list("status", flat=True).get(pk=task.pk)


@pytest.fixture
def scheduler(make_user):
    """A user who may schedule testmod tasks."""
    return make_user(SCHEDULER, TESTMOD)


# -- schedule ----------------------------------------------------------------------


def test_schedule_saves_a_pending_task_with_its_first_run(now, scheduler):
    task = new_task(
        now,
        scheduler,
        cron="30 8 * * *",
        timezone="Europe/Berlin",
        name=" Morning ",
        priority=2,
        tags=["Ops", "daily"],
    )
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
    assert task.enabled
    assert task.name == "Morning"
    assert task.owner == scheduler and task.created_by == scheduler
    assert task.cron_expression == "30 8 * * *" and task.timezone == "Europe/Berlin"
    assert task.next_run == task.occurrence_at == utc(2026, 6, 2, 6, 30)  # 08:30 CEST
    assert task.priority == 2 and task.tags == ["ops", "daily"]
    assert task.config == {"note": "hello", "sleep": None}


def test_schedule_fills_defaults_from_the_task_type_and_settings(now, settings):
    settings.SCHEDULER = {"DEFAULT_MAX_RETRIES": 7, "DEFAULT_TIMEOUT": 60}
    task = new_task(now)
    assert task.name == "Record an execution"
    assert (task.max_retries, task.timeout, task.priority) == (7, 60, 5)
    assert task.owner is None


@pytest.mark.parametrize(
    ("kwargs", "first_run"),
    [
        ({"schedule_type": "cron", "cron": "@hourly"}, utc(2026, 6, 1, 13)),
        ({"schedule_type": "conditional", "cron": "*/10 * * * *"}, utc(2026, 6, 1, 12, 10)),
        ({"schedule_type": "one_time", "run_at": utc(2026, 6, 3, 9)}, utc(2026, 6, 3, 9)),
        ({"schedule_type": "recurring", "interval": "15 minutes"}, utc(2026, 6, 1, 12, 15)),
        (
            {"schedule_type": "recurring", "interval": (2, "days"), "run_at": utc(2026, 5, 1, 7)},
            utc(2026, 6, 2, 7),
        ),
        ({"schedule_type": "event", "event": "invoice.paid"}, None),
    ],
)
def test_schedule_computes_the_first_run_of_each_type(now, kwargs, first_run):
    kwargs["cron"] = kwargs.get("cron")
    task = new_task(now, **kwargs)
    task.refresh_from_db()
    assert task.next_run == first_run
    assert task.occurrence_at == first_run


def test_recurring_runs_keep_the_phase_of_the_first_run(now):
    task = new_task(
        now + dt.timedelta(microseconds=1234),
        schedule_type="recurring",
        cron=None,
        interval="15 minutes",
    )
    task.refresh_from_db()
    assert task.next_run == utc(2026, 6, 1, 12, 15)
    # The engine computes the next slot from the occurrence that just ran.
    assert task.next_run_after(task.next_run) == utc(2026, 6, 1, 12, 30)
    assert services.next_runs(task=task, after=task.next_run, count=2) == [
        utc(2026, 6, 1, 12, 30),
        utc(2026, 6, 1, 12, 45),
    ]


def test_bad_config_is_refused_before_anything_is_saved(now, scheduler):
    with pytest.raises(ValidationError) as excinfo:
        new_task(now, scheduler, config={"note": "x" * 201, "sleep": -1})
    assert set(excinfo.value.message_dict) == {"note", "sleep"}
    assert not ScheduledTask.objects.exists()


def test_config_that_is_not_an_object_is_refused(now):
    with pytest.raises(ValidationError) as excinfo:
        new_task(now, config=["note"])
    assert "config" in excinfo.value.message_dict
    assert not ScheduledTask.objects.exists()


def test_unknown_module_names_the_known_modules(now, scheduler):
    with pytest.raises(ValidationError) as excinfo:
        new_task(now, scheduler, module="nope")
    [message] = excinfo.value.message_dict["module"]
    assert "nope" in message and "testmod" in message
    assert not ScheduledTask.objects.exists()


def test_unknown_task_type_names_the_known_task_types(now, scheduler):
    with pytest.raises(ValidationError) as excinfo:
        new_task(now, scheduler, task_type="nope")
    [message] = excinfo.value.message_dict["task_type"]
    assert "nope" in message and "record" in message and "noop" in message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"schedule_type": "hourly"}, "schedule_type"),
        ({"cron": "0 0 6 * * *"}, "cron"),
        ({"cron": "@sometimes"}, "cron"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"schedule_type": "one_time", "run_at": utc(2026, 5, 1)}, "run_at"),
        ({"schedule_type": "one_time"}, "run_at"),
        ({"schedule_type": "recurring"}, "interval"),
        ({"schedule_type": "recurring", "interval": "0 minutes"}, "interval"),
        ({"schedule_type": "recurring", "interval": "5 lightyears"}, "interval"),
        ({"schedule_type": "recurring", "interval": "often"}, "interval"),
        ({"schedule_type": "event", "event": " "}, "event"),
        ({"priority": 0}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout": 0}, "timeout"),
        ({"tags": ["no spaces allowed"]}, "tags"),
        ({"misfire_policy": "sometimes"}, "misfire_policy"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_input_is_a_field_error_and_saves_nothing(now, scheduler, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        new_task(now, scheduler, **kwargs)
    assert field in excinfo.value.message_dict
    assert not ScheduledTask.objects.exists()


def test_scheduled_signal_is_sent_after_commit(now, django_capture_on_commit_callbacks):
    received = []
    task_scheduled.connect(
        lambda sender, task, **kw: received.append(task.pk),
        weak=False,
        dispatch_uid="test_services_scheduled",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            task = new_task(now)
            assert received == []
        assert len(callbacks) == 1
        assert received == [task.pk]
    finally:
        task_scheduled.disconnect(dispatch_uid="test_services_scheduled")


# -- permissions --------------------------------------------------------------------


@pytest.mark.parametrize("perms", [(), (SCHEDULER,), (TESTMOD,)])
def test_scheduling_needs_sa_scheduler_and_the_modules_base_permission(now, make_user, perms):
    user = make_user(*perms)
    with pytest.raises(PermissionDenied):
        new_task(now, user)
    assert not ScheduledTask.objects.exists()


def test_an_inactive_user_may_not_schedule(now, make_user):
    user = make_user(SCHEDULER, TESTMOD, is_active=False)
    with pytest.raises(PermissionDenied):
        new_task(now, user)


def test_another_user_may_not_change_my_task(now, scheduler, make_user):
    task = new_task(now, scheduler)
    other = make_user(SCHEDULER, TESTMOD)
    for action in (services.cancel, services.pause, services.run_now, services.delete):
        with pytest.raises(PermissionDenied):
            action(task, user=other)
    with pytest.raises(PermissionDenied):
        services.update(task, user=other, name="mine now")
    assert status_of(task) == TaskStatus.PENDING
    assert ScheduledTask.objects.get(pk=task.pk).name == task.name


def test_the_owner_may_manage_their_task(now, scheduler):
    task = new_task(now, scheduler)
    services.pause(task, user=scheduler)
    services.resume(task, user=scheduler, now=now)
    services.run_now(task, user=scheduler, now=now)
    services.update(task, user=scheduler, name="renamed", now=now)
    services.cancel(task, user=scheduler)
    assert status_of(task) == TaskStatus.CANCELLED


# -- update ------------------------------------------------------------------------------


def test_update_recomputes_the_schedule(now):
    task = new_task(now)
    services.update(task, user=None, cron="0 7 * * *", timezone="Asia/Tokyo", now=now)
    task.refresh_from_db()
    assert (task.cron_expression, task.timezone) == ("0 7 * * *", "Asia/Tokyo")
    assert task.next_run == task.occurrence_at == utc(2026, 6, 1, 22)


def test_update_can_change_the_schedule_type(now):
    task = new_task(now)
    services.update(task, user=None, schedule_type="one_time", run_at=utc(2026, 7, 1), now=now)
    task.refresh_from_db()
    assert task.schedule_type == "one_time" and task.cron_expression == ""
    assert task.next_run == utc(2026, 7, 1)


def test_update_validates_config_with_the_form(now):
    task = new_task(now)
    with pytest.raises(ValidationError) as excinfo:
        services.update(task, user=None, config={"sleep": "a while"}, now=now)
    assert "sleep" in excinfo.value.message_dict
    assert ScheduledTask.objects.get(pk=task.pk).config == {"note": "hello", "sleep": None}
    services.update(task, user=None, config={"note": "bye"}, now=now)
    assert ScheduledTask.objects.get(pk=task.pk).config == {"note": "bye", "sleep": None}


def test_a_failed_update_saves_nothing_and_leaves_the_instance_as_stored(now):
    task = new_task(now)
    with pytest.raises(ValidationError):
        services.update(task, user=None, name="new name", cron="not cron", now=now)
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert stored.name == "Record an execution" and stored.cron_expression == "0 6 * * *"


@pytest.mark.parametrize("field", ["status", "module_id", "owner", "next_run", "is_system"])
def test_update_refuses_fields_that_are_not_editable(now, field):
    task = new_task(now)
    with pytest.raises(ValidationError) as excinfo:
        services.update(task, user=None, now=now, **{field: "x"})
    assert field in excinfo.value.message_dict


def test_update_does_not_overwrite_what_the_engine_changed_meanwhile(now):
    task = new_task(now)
    ScheduledTask.objects.filter(pk=task.pk).update(status=TaskStatus.RUNNING, lease_owner="w1")
    services.update(task, user=None, name="renamed", now=now)  # ``task`` still says pending
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert (stored.name, stored.status, stored.lease_owner) == ("renamed", "running", "w1")


def test_a_finished_task_given_a_future_schedule_is_pending_again_only_when_resumed(now):
    task = new_task(now, schedule_type="one_time", cron=None, run_at=utc(2026, 6, 1, 13))
    ScheduledTask.objects.filter(pk=task.pk).update(status=TaskStatus.SUCCESS, next_run=None)
    services.update(task, user=None, run_at=utc(2026, 6, 2), now=now)
    assert (task.status, task.next_run, task.run_at) == (
        TaskStatus.SUCCESS,
        None,
        utc(2026, 6, 2),
    )
    services.update(task, user=None, run_at=utc(2026, 6, 3), resume=True, now=now)
    assert (task.status, task.next_run) == (TaskStatus.PENDING, utc(2026, 6, 3))


# -- transitions -------------------------------------------------------------------------


def test_pause_and_resume_skip_the_runs_missed_while_paused(now):
    task = new_task(now, cron="0 * * * *")
    services.pause(task, user=None)
    assert status_of(task) == TaskStatus.PAUSED
    later = now + dt.timedelta(hours=5, minutes=10)
    services.resume(task, user=None, now=later)
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING
    assert task.next_run == task.occurrence_at == utc(2026, 6, 1, 18)


def test_resume_of_a_recurring_task_keeps_its_phase(now):
    task = new_task(now, schedule_type="recurring", cron=None, interval="1 hours")
    services.pause(task, user=None)
    services.resume(task, user=None, now=now + dt.timedelta(hours=3, minutes=30))
    task.refresh_from_db()
    assert task.next_run == utc(2026, 6, 1, 16)


def test_resume_of_a_missed_one_time_task_runs_it_now(now):
    task = new_task(now, schedule_type="one_time", cron=None, run_at=utc(2026, 6, 1, 13))
    services.pause(task, user=None)
    later = utc(2026, 6, 2)
    services.resume(task, user=None, now=later)
    task.refresh_from_db()
    assert task.next_run == later


def test_run_now_makes_the_task_due_now(now):
    task = new_task(now)
    services.pause(task, user=None)
    services.run_now(task, user=None, now=now)
    task.refresh_from_db()
    assert task.status == TaskStatus.PENDING and task.enabled
    assert task.next_run == task.occurrence_at == now
    assert list(ScheduledTask.objects.due(now)) == [task]


def test_cancel_stops_the_task_and_sends_a_signal_after_commit(
    now, django_capture_on_commit_callbacks
):
    task = new_task(now)
    received = []
    task_cancelled.connect(
        lambda sender, task, **kw: received.append(task.pk),
        weak=False,
        dispatch_uid="test_services_cancelled",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            returned = services.cancel(task, user=None)
            assert received == []
        assert received == [task.pk]
    finally:
        task_cancelled.disconnect(dispatch_uid="test_services_cancelled")
    assert returned.status == task.status == TaskStatus.CANCELLED
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert stored.status == TaskStatus.CANCELLED and stored.next_run is None


@pytest.mark.parametrize(
    ("start", "action", "kwargs"),
    [
        (TaskStatus.CANCELLED, services.pause, {}),
        (TaskStatus.CANCELLED, services.run_now, {}),
        (TaskStatus.CANCELLED, services.resume, {}),
        (TaskStatus.PENDING, services.resume, {}),
        (TaskStatus.RUNNING, services.pause, {}),
        (TaskStatus.RUNNING, services.run_now, {}),
        (TaskStatus.FAILED, services.pause, {}),
        (TaskStatus.SUCCESS, services.pause, {}),
    ],
)
def test_impossible_transitions_are_refused(now, start, action, kwargs):
    task = new_task(now)
    ScheduledTask.objects.filter(pk=task.pk).update(status=start)
    with pytest.raises(ValidationError) as excinfo:
        action(task, user=None, **kwargs)
    assert "status" in excinfo.value.message_dict
    assert status_of(task) == start


CONTROL_ACTIONS = {
    "pause": services.pause,
    "resume": services.resume,
    "cancel": services.cancel,
    "run": services.run_now,
}


@pytest.mark.parametrize("action", sorted(CONTROL_ACTIONS))
@pytest.mark.parametrize("start", TaskStatus.values)
def test_a_control_action_works_exactly_when_the_status_permits_it(now, start, action):
    """No-op and impossible actions (pause a paused task, cancel a cancelled one, ...) are
    refused with a message on ``status`` and leave no trace: no change, no audit event."""
    from scheduler_app import policy
    from scheduler_app.models import TaskAuditEvent

    task = new_task(now)
    ScheduledTask.objects.filter(pk=task.pk).update(status=start)
    task.refresh_from_db()
    before = ScheduledTask.objects.values().get(pk=task.pk)
    events = TaskAuditEvent.objects.count()
    if action in policy.possible_actions(task):
        CONTROL_ACTIONS[action](task, user=None)
        assert TaskAuditEvent.objects.count() == events + 1
        return
    with pytest.raises(ValidationError) as excinfo:
        CONTROL_ACTIONS[action](task, user=None)
    [message] = excinfo.value.message_dict["status"]
    assert message.endswith(".") and len(message) < 80
    assert ScheduledTask.objects.values().get(pk=task.pk) == before
    assert TaskAuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (services.pause, "already paused"),
        (services.cancel, "already cancelled"),
        (services.resume, "Only a paused task"),
        (services.run_now, "already queued"),
    ],
)
def test_repeating_an_action_is_refused_and_recorded_once(now, action, expected):
    from scheduler_app.models import TaskAuditEvent

    task = new_task(now)
    if action is services.resume:
        services.pause(task, user=None)
    action(task, user=None)
    events = TaskAuditEvent.objects.count()
    with pytest.raises(ValidationError, match=expected):
        action(task, user=None)
    assert TaskAuditEvent.objects.count() == events


def test_a_failed_task_can_be_run_again(now):
    task = new_task(now)
    ScheduledTask.objects.filter(pk=task.pk).update(status=TaskStatus.FAILED)
    services.run_now(task, user=None, now=now)
    assert status_of(task) == TaskStatus.PENDING


def test_actions_on_a_deleted_task_are_validation_errors(now):
    task = new_task(now)
    ScheduledTask.objects.filter(pk=task.pk).delete()
    with pytest.raises(ValidationError):
        services.pause(task, user=None)


# -- delete ------------------------------------------------------------------------------


def test_delete_removes_the_task(now, scheduler):
    task = new_task(now, scheduler)
    services.delete(task, user=scheduler)
    assert not ScheduledTask.objects.filter(pk=task.pk).exists()


def test_system_tasks_cannot_be_deleted(now):
    task = new_task(now, is_system=True)
    with pytest.raises(PermissionDenied):
        services.delete(task, user=None)
    assert ScheduledTask.objects.filter(pk=task.pk).exists()


# -- next_runs ---------------------------------------------------------------------------


def test_next_runs_previews_a_schedule_in_its_zone(now):
    runs = services.next_runs(
        "cron", cron="0 6 * * 1-5", timezone="Europe/Berlin", count=3, after=now
    )
    assert [r.isoformat() for r in runs] == [
        "2026-06-02T06:00:00+02:00",
        "2026-06-03T06:00:00+02:00",
        "2026-06-04T06:00:00+02:00",
    ]


def test_next_runs_of_a_task(now):
    task = new_task(now, cron="0 12 * * *")
    assert services.next_runs(task=task, after=now, count=2) == [
        utc(2026, 6, 2, 12),
        utc(2026, 6, 3, 12),
    ]


def test_next_runs_of_an_interval_and_an_event(now):
    assert services.next_runs("recurring", interval="2 hours", after=now, count=2) == [
        utc(2026, 6, 1, 14),
        utc(2026, 6, 1, 16),
    ]
    assert services.next_runs("event", event="x", after=now) == []


def test_next_runs_of_bad_input_is_a_field_error(now):
    with pytest.raises(ValidationError) as excinfo:
        services.next_runs("cron", cron="61 * * * *", after=now)
    assert "cron" in excinfo.value.message_dict


# -- emit --------------------------------------------------------------------------------


def listening(now, event="invoice.paid", **kwargs) -> ScheduledTask:
    return new_task(now, schedule_type="event", cron=None, event=event, **kwargs)


def payloads(task: ScheduledTask) -> list:
    """The events queued for ``task``, oldest first."""
    return list(task.pending_events.order_by("fired_at", "pk").values_list("payload", flat=True))


def test_emit_fires_listening_tasks_after_commit(now, django_capture_on_commit_callbacks):
    task, other = listening(now), listening(now, event="invoice.sent")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.emit("invoice.paid", {"invoice": 7})
        task.refresh_from_db()
        assert task.next_run is None  # not before the commit
    assert len(callbacks) == 1
    task.refresh_from_db()
    other.refresh_from_db()
    assert task.next_run is not None and task.occurrence_at == task.next_run
    assert payloads(task) == [{"invoice": 7}]
    assert other.next_run is None and payloads(other) == []


def test_emit_skips_paused_cancelled_and_disabled_tasks(now, django_capture_on_commit_callbacks):
    paused, cancelled, disabled = listening(now), listening(now), listening(now)
    services.pause(paused, user=None)
    services.cancel(cancelled, user=None)
    services.update(disabled, user=None, enabled=False, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.emit("invoice.paid")
    assert not ScheduledTask.objects.filter(next_run__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_emit_does_not_fire_when_the_transaction_rolls_back(now):
    task = listening(now)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.emit("invoice.paid", {"invoice": 1})
        raise Abort
    task.refresh_from_db()
    assert task.next_run is None and payloads(task) == []

    with transaction.atomic():
        services.emit("invoice.paid", {"invoice": 2})
    task.refresh_from_db()
    assert task.next_run is not None and payloads(task) == [{"invoice": 2}]


@pytest.mark.django_db(transaction=True)
def test_emit_outside_a_transaction_fires_at_once(now):
    task = listening(now)
    services.emit("invoice.paid")
    task.refresh_from_db()
    assert task.next_run is not None and payloads(task) == [{}]
