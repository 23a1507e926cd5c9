"""The alerts' outbox: alerts commit with their runs and go out off the pass.

A webhook receiver on 127.0.0.1 that hangs until the test lets it answer
shows that the pass does not wait for delivery; retries and claims are
driven by an injected clock (``deliver_due(now)``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.utils import timezone

from scheduler_app.engine import hooks
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import AlertState, PendingAlert, ScheduledTask, TaskExecutionLog
from scheduler_app.monitoring.alerts import outbox


class HangingReceiver:
    """A webhook receiver whose answers wait until ``release`` is set (or ``hang`` is off)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()  # a request is being held
        self.bodies: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.entered.set()
                # Bounded, so a broken test cannot hang the suite; the tests release it.
                receiver.release.wait(60)
                receiver.bodies.append(json.loads(body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kinds(self) -> list[str]:
        return [body["kind"] for body in self.bodies]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = HangingReceiver()
    yield server
    server.close()
    assert outbox.wait(60), "the background delivery did not end"


@pytest.fixture
def alerting(settings, receiver):
    def configure(**overrides):
        settings.SCHEDULER = {
            **settings.SCHEDULER,
            "EXECUTION": "inline",
            "RETRY_BACKOFF_BASE": 0,
            "RETRY_JITTER": 0,
            "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
            # The receiver listens on loopback, which outbound requests may not reach by default.
            "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
            "ALERTS": {
                "WEBHOOK_URL": receiver.url,
                "WEBHOOK_TIMEOUT": 30,
                "WEBHOOK_RETRIES": 2,
                "WEBHOOK_RETRY_DELAY": 10,
                **overrides,
            },
        }

    configure()
    return configure


def failing(make_task, **kwargs) -> ScheduledTask:  # noqa: ANN001
    return make_task("fail", max_retries=0, due=timezone.now() - dt.timedelta(seconds=5), **kwargs)


def run(task: ScheduledTask):
    return run_pass(PassOptions(filters=Filters(task_ids=(task.pk,))))


# -- off the pass's critical path ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_pass_returns_while_its_alert_is_still_being_delivered(alerting, receiver, make_task):
    first = failing(make_task, name="First")

    report = run(first)

    # The pass is over, its alert committed and in flight to a webhook that has not answered.
    assert report.by_status == {"failed": 1}
    assert receiver.entered.wait(30), "the alert was not sent"
    (row,) = PendingAlert.objects.all()
    assert row.attempts == 0 and row.claimed_by and row.claimed_until is not None
    assert receiver.bodies == []

    # The next pass does not wait for it either; its alert waits in the outbox.
    second = failing(make_task, name="Second")
    assert run(second).by_status == {"failed": 1}
    assert PendingAlert.objects.count() == 2 and receiver.bodies == []

    receiver.release.set()
    assert outbox.wait(60)
    assert sorted(body["task"]["name"] for body in receiver.bodies) == ["First", "Second"]
    assert not PendingAlert.objects.exists()


@pytest.mark.django_db
def test_a_failed_runs_alert_is_written_with_the_run_and_waits_for_delivery(
    alerting, receiver, make_task
):
    receiver.release.set()
    task = failing(make_task)
    run(task)  # inside the test's transaction nothing is delivered: the commit never comes
    (row,) = PendingAlert.objects.all()
    log = TaskExecutionLog.objects.get(task=task)
    assert row.key == f"failed:{task.pk}" and row.alert["details"]["run"] == log.run_id
    assert receiver.bodies == []
    [sent] = outbox.deliver_due()
    assert sent.kind == "failed" and receiver.kinds() == ["failed"]
    assert not PendingAlert.objects.exists()


@pytest.mark.django_db
def test_a_hook_that_fails_costs_the_alert_not_the_run(alerting, make_task, caplog):
    def broken(runs, now):
        raise RuntimeError("the outbox is broken")

    hooks.register_runs_failed(broken)
    try:
        task = failing(make_task)
        report = run(task)
    finally:
        hooks.unregister_runs_failed(broken)
    assert report.by_status == {"failed": 1}
    assert TaskExecutionLog.objects.get(task=task).status == "failed"
    assert "the outbox is broken" in caplog.text


# -- retries, claims, channels (injected clock) -------------------------------------------


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)


def pending_failure(task_id: int, now: dt.datetime) -> int:
    from scheduler_app.monitoring.alerts.alert import Alert

    (pk,) = outbox.enqueue(
        [Alert("failed", "subject", "message", now, task_id=task_id, module_id="testmod")],
        now=now,
    )
    return pk


@pytest.mark.django_db
def test_a_dead_webhook_costs_one_timeout_per_round_not_one_per_alert(alerting, receiver, now):
    alerting(WEBHOOK_TIMEOUT=0.2)
    ids = [pending_failure(task_id, now) for task_id in (1, 2, 3)]
    assert outbox.deliver_due(now) == []  # the first times out; the others are not tried
    rows = {row.pk: row for row in PendingAlert.objects.all()}
    assert rows[ids[0]].attempts == 1 and "webhook: TimeoutError" in rows[ids[0]].last_error
    for pk in ids[1:]:
        assert rows[pk].attempts == 0 and "not tried" in rows[pk].last_error
        assert rows[pk].next_attempt_at == now + dt.timedelta(seconds=10)
    assert {row.claimed_by for row in rows.values()} == {""}
    # The webhook is back: the next round sends all three.
    receiver.release.set()
    later = now + dt.timedelta(seconds=10)
    assert len(outbox.deliver_due(later)) == 3
    assert not PendingAlert.objects.exists()
    # Four requests reached it: the one that timed out (answered too late) and three.
    assert len(receiver.bodies) == 4


@pytest.mark.django_db
def test_an_alert_claimed_by_another_deliverer_is_left_until_its_claim_runs_out(
    alerting, receiver, now
):
    receiver.release.set()
    pk = pending_failure(1, now)
    # Another scheduler took it and died while sending it.
    PendingAlert.objects.filter(pk=pk).update(
        claimed_by="gone", claimed_until=now + dt.timedelta(seconds=90)
    )
    assert outbox.deliver_due(now + dt.timedelta(seconds=89)) == []
    assert receiver.bodies == []
    assert len(outbox.deliver_due(now + dt.timedelta(seconds=91))) == 1
    assert len(receiver.bodies) == 1


@pytest.mark.django_db
def test_a_channel_that_took_the_alert_is_not_sent_it_again(alerting, receiver, now, make_user):
    alerting(EMAIL=True, EMAIL_TO=["ops@example.com"])
    receiver.release.set()
    receiver.statuses = [503]
    pk = pending_failure(1, now)
    outbox.deliver_due(now)
    row = PendingAlert.objects.get(pk=pk)
    assert row.delivered == ["email"] and row.attempts == 1
    assert len(mail.outbox) == 1
    outbox.deliver_due(row.next_attempt_at)
    assert not PendingAlert.objects.exists()
    assert len(mail.outbox) == 1 and len(receiver.bodies) == 2
    # The rate limit was asked once, for the alert, not once per attempt.
    assert AlertState.objects.get(key="failed:1").suppressed == 0


@pytest.mark.django_db
def test_a_client_error_is_given_up_at_once(alerting, receiver, now, caplog):
    receiver.release.set()
    receiver.statuses = [404]
    pending_failure(1, now)
    assert outbox.deliver_due(now) == []
    assert not PendingAlert.objects.exists() and len(receiver.bodies) == 1
    assert "Gave up the failed alert for failed:1 after 1 attempt(s): webhook: HTTP 404" in (
        caplog.text
    )


@pytest.mark.django_db
def test_alerts_of_a_kind_turned_off_meanwhile_are_dropped(alerting, receiver, now):
    pending_failure(1, now)
    alerting(ON=["overdue"])
    assert outbox.deliver_due(now) == []
    assert not PendingAlert.objects.exists() and receiver.bodies == []


# -- abandoned runs -----------------------------------------------------------------------


def abandon(task: ScheduledTask) -> TaskExecutionLog:
    """Leave ``task`` as a scheduler killed mid-run leaves it: running, its lease run out."""
    past = timezone.now() - dt.timedelta(minutes=5)
    ScheduledTask.objects.filter(pk=task.pk).update(
        status="running",
        lease_owner="gone:1",
        lease_token="deadbeef" * 4,
        lease_expires_at=past,
        occurrence_at=past,
        next_run=past,
    )
    return TaskExecutionLog.objects.create(
        task=task, run_id=uuid.uuid4().hex, scheduled_for=past, status="running", started_at=past
    )


@pytest.mark.django_db
def test_a_run_abandoned_by_a_dead_scheduler_raises_an_alert(alerting, receiver, make_task):
    receiver.release.set()
    retried = make_task("record", name="Retried", max_retries=2)
    final = make_task("record", name="Final", max_retries=0)
    logs = {task.pk: abandon(task) for task in (retried, final)}

    report = run_pass(PassOptions(now=timezone.now() - dt.timedelta(days=1)))  # recovery only
    assert report.recovered == 2
    outbox.deliver_due()

    assert sorted(receiver.kinds()) == ["abandoned", "abandoned"]
    bodies = {body["task"]["name"]: body for body in receiver.bodies}
    assert bodies["Retried"]["message"].endswith("It will be retried.")
    assert bodies["Final"]["message"].endswith("It will not be retried.")
    assert bodies["Final"]["details"]["run"] == logs[final.pk].run_id
    assert bodies["Final"]["details"]["status"] == "abandoned"
    assert "stopped renewing its lease" in bodies["Final"]["details"]["error"]


@pytest.mark.django_db
def test_abandoned_alerts_can_be_turned_off(alerting, receiver, make_task):
    alerting(ON=["failed", "streak"])
    abandon(make_task("record", max_retries=0))
    assert run_pass(PassOptions(now=timezone.now() - dt.timedelta(days=1))).recovered == 1
    assert not PendingAlert.objects.exists()


# -- a scheduler process that stops mid-delivery --------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_alert_in_flight_when_its_scheduler_is_killed_is_delivered_by_a_later_pass(
    receiver, make_task, settings
):
    import os
    import signal

    from tests.engine_processes import Processes, due_tasks, scheduler_env, wait_for

    alerts = {"WEBHOOK_URL": receiver.url, "WEBHOOK_TIMEOUT": 30, "WEBHOOK_RETRY_DELAY": 1}
    (task_id,) = due_tasks(make_task, 1, task_type="fail", max_retries=0)
    procs = Processes()
    try:
        victim = procs.scheduler(
            "--verbosity",
            "0",
            env=scheduler_env(
                WORKERS=1,
                ALERTS=json.dumps(alerts),
                OUTBOUND_ALLOWED_NETWORKS=json.dumps(["127.0.0.0/8"]),
            ),
        )
        assert receiver.entered.wait(60), "the scheduler did not send the alert"
        os.killpg(victim.pid, signal.SIGKILL)  # kill -9 while the webhook has not answered
        victim.wait(10)
    finally:
        procs.kill_all()

    (row,) = PendingAlert.objects.all()
    assert row.key == f"failed:{task_id}" and row.attempts == 0
    assert row.claimed_by and row.claimed_until is not None  # held by the dead process
    assert row.admitted  # the rate limit let it go once: it is not held back as a repeat
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "ALERTS": alerts,
        "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
    }
    receiver.release.set()
    wait_for(lambda: len(receiver.bodies) == 1, 30, "the first request to be answered")
    # A later pass (its clock past the dead process's claim) delivers it.
    assert outbox.deliver_due(row.claimed_until - dt.timedelta(seconds=1)) == []
    [sent] = outbox.deliver_due(row.claimed_until + dt.timedelta(seconds=1))
    assert sent.task_id == task_id
    assert not PendingAlert.objects.exists() and len(receiver.bodies) == 2
