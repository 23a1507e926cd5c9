"""on_success chains through the services: validation, cycles, permissions, and running in order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import ScheduledTask, TaskAuditEvent, TaskExecutionLog
from scheduler_app.services import chains
from tests.testapp.models import Execution

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def owner(make_user):
    return make_user(*PERMS, username="owner")


@pytest.fixture
def chained(make_task, owner):
    """Three event tasks of ``owner``, named A, B and C, that only run when chained."""

    def factory(*names: str) -> list[ScheduledTask]:
        return [
            make_task(
                "record",
                user=owner,
                name=name,
                schedule_type="event",
                event="never",
                cron=None,
                config={"note": name},
            )
            for name in names
        ]

    return factory


def chain_of(task: ScheduledTask) -> list[str]:
    return sorted(task.on_success.values_list("name", flat=True))


def error_of(caught: pytest.ExceptionInfo) -> tuple[str, str]:
    [error] = caught.value.error_dict["on_success"]
    return error.code, error.message


@pytest.mark.django_db(transaction=True)
def test_a_chain_runs_in_order_after_each_success(make_task, owner, chained):
    b, c = chained("B", "C")
    services.update(b, user=owner, on_success=[c.pk])
    past = timezone.now() - dt.timedelta(minutes=1)
    a = make_task("record", user=owner, name="A", config={"note": "A"}, due=past, on_success=[b])

    for _ in range(4):
        run_pass(PassOptions())

    assert list(Execution.objects.order_by("pk").values_list("note", flat=True)) == ["A", "B", "C"]
    started = [TaskExecutionLog.objects.get(task=t).started_at for t in (a, b, c)]
    assert started == sorted(started)


@pytest.mark.django_db(transaction=True)
def test_a_failure_stops_the_chain(make_task, owner, chained):
    [then] = chained("then")
    past = timezone.now() - dt.timedelta(minutes=1)
    make_task("fail", user=owner, due=past, max_retries=0, on_success=[then.pk])
    run_pass(PassOptions())
    run_pass(PassOptions())
    assert not Execution.objects.exists()


def test_schedule_stores_the_chain_and_update_changes_and_audits_it(make_task, owner, chained):
    b, c = chained("B", "C")
    a = make_task("record", user=owner, name="A", on_success=[b.pk, c])
    assert chain_of(a) == ["B", "C"]

    services.update(a, user=owner, on_success=[c.pk])
    assert chain_of(a) == ["C"]
    event = TaskAuditEvent.objects.for_task(a).newest_first().first()
    assert event.changes["on_success"] == [[b.pk, c.pk], [c.pk]]

    services.update(a, user=owner, on_success=[])
    assert chain_of(a) == []


def test_a_cycle_is_rejected_with_the_loop_named(owner, chained):
    a, b, c = chained("A", "B", "C")
    services.update(a, user=owner, on_success=[b.pk])
    services.update(b, user=owner, on_success=[c.pk])

    with pytest.raises(ValidationError) as caught:
        services.update(c, user=owner, on_success=[a.pk])
    code, message = error_of(caught)
    assert code == "chain_cycle"
    assert "This chain would loop: “C” → “A” → “B” → “C”." in message
    assert chain_of(c) == []  # nothing saved


def test_a_task_cannot_follow_itself(owner, chained):
    [a] = chained("A")
    with pytest.raises(ValidationError) as caught:
        services.update(a, user=owner, on_success=[a.pk])
    assert error_of(caught) == (
        "chain_cycle",
        "This chain would loop: “A” → “A”. A task cannot run "
        "again after itself; remove one of these links.",
    )


def test_find_cycle_ignores_branches_that_do_not_come_back(owner, chained):
    a, b, c, d = chained("A", "B", "C", "D")
    services.update(a, user=owner, on_success=[b.pk, c.pk])
    services.update(c, user=owner, on_success=[d.pk])
    services.update(b, user=owner, on_success=[d.pk])  # a diamond is not a loop
    assert chains.find_cycle(d.pk, [a.pk]) == [d.pk, a.pk, c.pk, d.pk] or chains.find_cycle(
        d.pk, [a.pk]
    ) == [d.pk, a.pk, b.pk, d.pk]
    assert chains.find_cycle(a.pk, [d.pk]) is None


def test_unknown_and_invisible_tasks_read_the_same(make_task, owner, make_user):
    seller = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_CRM")
    hidden = services.schedule(
        user=seller,
        module="crm",
        task_type="follow_up",
        config={"quiet_days": 3},
        schedule_type="cron",
        cron="0 9 * * *",
    )
    for ref in (999_999, hidden.pk):
        with pytest.raises(ValidationError) as caught:
            make_task("record", user=owner, on_success=[ref])
        assert error_of(caught) == ("unknown_task", f"No such task: {ref}.")
    with pytest.raises(ValidationError) as caught:
        make_task("record", user=owner, on_success=["abc"])
    assert error_of(caught)[0] == "invalid"
    assert not ScheduledTask.objects.filter(owner=owner).exists()  # nothing saved


def test_the_user_must_be_allowed_to_run_the_chained_tasks(make_task, owner, make_user):
    colleague = make_user(*PERMS)
    visible_only = make_task("record", user=colleague, name="Theirs")  # a module user sees it
    with pytest.raises(PermissionDenied, match="You may not run “Theirs”"):
        make_task("record", user=owner, on_success=[visible_only.pk])

    services.share(visible_only, user=colleague, users=[owner], permissions=("run",))
    task = make_task("record", user=owner, on_success=[visible_only.pk])
    assert chain_of(task) == ["Theirs"]


def test_cancelled_tasks_cannot_be_chained(owner, chained):
    a, b = chained("A", "B")
    services.cancel(b, user=owner)
    with pytest.raises(ValidationError) as caught:
        services.update(a, user=owner, on_success=[b.pk])
    assert error_of(caught)[0] == "cancelled"


def test_the_system_chains_without_permission_checks(make_task, make_user):
    theirs = make_task("record", user=make_user(*PERMS))
    mine = make_task("record", on_success=[theirs.pk])  # user=None: the system
    assert list(mine.on_success.all()) == [theirs]
