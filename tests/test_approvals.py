"""Approval steps: approved, rejected, escalated and expired (injected clock), and their policy."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import (
    Approval,
    ApprovalStatus,
    Notification,
    StepStatus,
    TaskAuditEvent,
    WorkflowRun,
    WorkflowStep,
)
from scheduler_app.services import approvals
from tests.testapp.models import Execution

APPROVER_PERM = "scheduler_app.SA_TESTMOD_ADMIN"
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def approver(make_user):
    return make_user(APPROVER_PERM, username="approver", email="approver@example.com")


@pytest.fixture
def workflow(make_task, clock):
    """draft → approval → publish (success) and draft → approval → notify_rejected (failure)."""

    def factory(**config):
        def event_task(name, task_type="record", module="testmod", cfg=None):
            return make_task(
                task_type,
                module=module,
                name=name,
                schedule_type="event",
                event="never",
                cron=None,
                max_retries=0,
                config=cfg if cfg is not None else {"note": name},
            )

        draft = event_task("draft")
        review = event_task(
            "Review",
            task_type="approval",
            module="workflow",
            cfg={"title": "Publish the newsletter?", "permission": "SA_TESTMOD_ADMIN", **config},
        )
        publish, rejected = event_task("publish"), event_task("rejected")
        services.add_edge(draft, review, user=None)
        services.add_edge(review, publish, user=None, condition="success")
        services.add_edge(review, rejected, user=None, condition="failure")
        type(draft).objects.filter(pk=draft.pk).update(next_run=START, occurrence_at=START)
        return draft, review, publish, rejected

    return factory


def ran(*tasks) -> list[str]:
    return sorted(
        Execution.objects.filter(task_id__in=[t.pk for t in tasks]).values_list("note", flat=True)
    )


def passes(count: int = 3) -> None:
    for _ in range(count):
        run_pass(PassOptions())


@pytest.mark.django_db(transaction=True)
def test_approved_step_starts_its_success_edges(workflow, approver, clock):
    draft, review, publish, rejected = workflow()
    passes()
    approval = Approval.objects.get()
    assert approval.status == ApprovalStatus.PENDING and approval.permission == APPROVER_PERM
    assert ran(publish, rejected) == []
    review.refresh_from_db()
    assert review.status == "pending" and review.next_run > START  # waits without a worker
    step = WorkflowStep.objects.get(task=review)
    assert step.status == StepStatus.WAITING
    # Notified by e-mail (with one-click links) and in the app.
    assert [m.to for m in mail.outbox] == [["approver@example.com"]]
    assert "/approvals/link/" in mail.outbox[0].body
    assert Notification.objects.filter(recipient=approver).count() == 1

    clock.shift(dt.timedelta(minutes=5))
    services.approve(approval, user=approver, comment="Ship it")
    passes()

    assert ran(publish, rejected) == ["publish"]
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.comment) == (
        "approved",
        approver,
        "Ship it",
    )
    assert approval.decided_at == START + dt.timedelta(minutes=5)
    event = TaskAuditEvent.objects.for_task(review).get(action="approved")
    assert event.actor == approver and event.changes["comment"] == [None, "Ship it"]
    run = WorkflowRun.objects.get()
    assert run.status == "success" and approval.workflow_run == run
    # The request belongs to the module whose task started the run, and to its own.
    assert list(approvals.for_module(Approval.objects.all(), "testmod")) == [approval]
    assert list(approvals.for_module(Approval.objects.all(), "workflow")) == [approval]
    assert not approvals.for_module(Approval.objects.all(), "crm").exists()


@pytest.mark.django_db(transaction=True)
def test_rejected_step_starts_its_failure_edges(workflow, approver):
    draft, review, publish, rejected = workflow()
    passes()
    services.reject(Approval.objects.get(), user=approver, comment="Typos")
    passes()
    assert ran(publish, rejected) == ["rejected"]
    assert WorkflowRun.objects.get().status == "failed"


@pytest.mark.django_db(transaction=True)
def test_a_decision_twice_or_by_a_non_approver_is_refused_and_changes_nothing(
    workflow, approver, make_user
):
    workflow()
    passes()
    approval = Approval.objects.get()
    outsider = make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
    with pytest.raises(PermissionDenied, match="holders of scheduler_app.SA_TESTMOD_ADMIN"):
        services.approve(approval, user=outsider)
    services.approve(approval, user=approver)
    with pytest.raises(ValidationError) as caught:
        services.reject(approval, user=approver, comment="changed my mind")
    assert caught.value.error_dict["approval"][0].code == "decided"
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.comment == ""
    with pytest.raises(ValidationError) as caught:
        services.approve(approval, user=approver, comment="x" * 2001)
    assert "comment" in caught.value.error_dict


@pytest.mark.django_db(transaction=True)
def test_escalation_lets_the_second_set_decide_after_the_timeout(
    workflow, approver, make_user, clock
):
    managers = Group.objects.create(name="Managers")
    boss = make_user(username="boss", email="boss@example.com")
    boss.groups.add(managers)
    draft, review, publish, rejected = workflow(
        escalate_after_minutes=60, escalation_group="Managers", expire_after_minutes=240
    )
    passes()
    approval = Approval.objects.get()
    assert approval.escalate_at == START + dt.timedelta(hours=1)
    with pytest.raises(PermissionDenied):
        services.approve(approval, user=boss)
    assert not approvals.decidable(boss).exists()

    clock.move_to(START + dt.timedelta(minutes=61))
    passes()  # the step falls due at the escalation time and escalates

    approval.refresh_from_db()
    assert approval.escalated_at == START + dt.timedelta(minutes=61)
    assert mail.outbox[-1].to == ["boss@example.com"]
    assert "Escalated" in mail.outbox[-1].subject
    assert TaskAuditEvent.objects.for_task(review).filter(action="escalated").count() == 1
    assert list(approvals.decidable(boss)) == [approval]
    services.approve(approval, user=boss, comment="ok")
    passes()
    assert ran(publish) == ["publish"]


@pytest.mark.django_db(transaction=True)
def test_expiry_rejects_automatically_and_a_late_decision_is_refused(workflow, approver, clock):
    draft, review, publish, rejected = workflow(expire_after_minutes=30)
    passes()
    approval = Approval.objects.get()

    clock.move_to(START + dt.timedelta(minutes=30))
    with pytest.raises(ValidationError) as caught:
        services.approve(approval, user=approver)
    assert caught.value.error_dict["approval"][0].code == "expired"
    passes()

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.EXPIRED and approval.decided_by is None
    assert ran(publish, rejected) == ["rejected"]
    assert TaskAuditEvent.objects.for_task(review).filter(action="approval_expired").exists()


@pytest.mark.django_db
def test_the_step_config_names_existing_approvers(make_task):
    with pytest.raises(ValidationError) as caught:
        make_task("approval", module="workflow", config={"title": "t", "permission": "NOPE_X"})
    assert "permission" in str(caught.value)
    with pytest.raises(ValidationError):
        make_task("approval", module="workflow", config={"title": "t"})
    with pytest.raises(ValidationError):
        make_task(
            "approval",
            module="workflow",
            config={"title": "t", "group": "Nobody", "escalate_after_minutes": 5},
        )
    assert timezone.now()


@pytest.mark.django_db
def test_a_step_nobody_may_decide_is_a_system_check_warning(make_task, make_user, settings):
    from django.core import checks

    from scheduler_app.checks.approvals import check_approvers, check_link_settings

    settings.SCHEDULER = {**settings.SCHEDULER, "APPROVAL_LINK_BASE_URL": "https://example.com"}
    step = make_task(
        "approval",
        module="workflow",
        name="Orphan review",
        config={"title": "t", "permission": "SA_TESTMOD_ADMIN"},
        schedule_type="event",
        event="never",
        cron=None,
    )
    assert check_approvers(databases=None) == []
    (warning,) = check_approvers(databases=["default"])
    assert warning.id == "scheduler_app.W050" and warning.level == checks.WARNING
    assert "Orphan review" in warning.msg and str(step.pk) in warning.msg
    make_user("scheduler_app.SA_TESTMOD_ADMIN")
    assert check_approvers(databases=["default"]) == []

    settings.SCHEDULER = {**settings.SCHEDULER, "APPROVAL_LINK_MAX_AGE": 0}
    assert [e.id for e in check_link_settings()] == ["scheduler_app.E050"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channels", "base", "warned"),
    [
        (None, "", True),  # e-mail and in-app when unset
        (["email"], "", True),
        (["in_app"], "", False),  # nothing is e-mailed: no link to open
        (["email", "in_app"], "https://example.com", False),
    ],
)
def test_e_mailed_links_without_the_sites_address_are_a_warning(
    make_task, make_user, settings, channels, base, warned
):
    from scheduler_app.checks.approvals import check_approvers

    settings.SCHEDULER = {**settings.SCHEDULER, "APPROVAL_LINK_BASE_URL": base}
    make_user("scheduler_app.SA_TESTMOD_ADMIN")  # someone decides: no W050
    config = {"title": "t", "permission": "SA_TESTMOD_ADMIN"}
    step = make_task(
        "approval",
        module="workflow",
        name="Mailed review",
        config=config | ({"channels": channels} if channels else {}),
        schedule_type="event",
        event="never",
        cron=None,
    )
    found = check_approvers(databases=["default"])
    assert [w.id for w in found] == (["scheduler_app.W051"] if warned else [])
    if warned:
        assert "Mailed review" in found[0].msg and str(step.pk) in found[0].msg
        assert "APPROVAL_LINK_BASE_URL" in found[0].hint


@pytest.mark.django_db(transaction=True)
def test_an_approval_step_can_start_its_workflow(make_task, approver, clock):
    review = make_task(
        "approval",
        module="workflow",
        config={"title": "Go?", "permission": "SA_TESTMOD_ADMIN"},
        schedule_type="event",
        event="never",
        cron=None,
        due=START,
    )
    publish = make_task(
        "record", schedule_type="event", event="never", cron=None, config={"note": "publish"}
    )
    services.add_edge(review, publish, user=None)
    passes()
    approval = Approval.objects.get()
    run = WorkflowRun.objects.get()
    assert run.root_id == review.pk
    clock.shift(dt.timedelta(minutes=1))
    services.approve(approval, user=approver)
    passes()
    assert ran(publish) == ["publish"]
    approval.refresh_from_db()
    assert Approval.objects.count() == 1 and approval.workflow_run == run
    run.refresh_from_db()
    assert run.status == "success"
