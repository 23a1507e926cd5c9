"""Alerts: permanent failures, failure streaks, overdue tasks and a silent scheduler, by e-mail
and webhook (a receiver run by the test on 127.0.0.1), rate-limited."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from scheduler_app.checks import check_settings
from scheduler_app.engine import hooks
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import (
    AlertState,
    PendingAlert,
    ScheduledTask,
    SchedulerHeartbeat,
    TaskExecutionLog,
)
from scheduler_app.monitoring import alerts
from scheduler_app.monitoring.alerts import config, outbox, ratelimit, senders, triggers

pytestmark = pytest.mark.django_db

ADMIN_PERMS = ("scheduler_app.SA_TESTMOD_ADMIN",)
OWNER_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


class Receiver:
    """A webhook receiver: records JSON bodies; answers from ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.statuses: list[int] = []
        self.location = ""  # sent as Location when set
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.bodies.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/scheduler"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def kinds(self) -> list[str]:
        return [body["kind"] for body in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def alerting(settings, receiver):
    """Alerts on, to e-mail and the receiver; no waiting between webhook retries."""

    def configure(**overrides):
        settings.SCHEDULER = {
            **settings.SCHEDULER,
            "EXECUTION": "inline",
            "RETRY_BACKOFF_BASE": 0,
            "RETRY_JITTER": 0,
            # The receiver listens on 127.0.0.1, which the outbound guard refuses by default.
            "OUTBOUND_ALLOWED_NETWORKS": ["127.0.0.0/8"],
            "ALERTS": {
                "EMAIL": True,
                "EMAIL_TO": ["ops@example.com"],
                "WEBHOOK_URL": receiver.url,
                "WEBHOOK_HEADERS": {"Authorization": "Bearer hook-token"},
                "WEBHOOK_RETRY_DELAY": 0,
                "WEBHOOK_TIMEOUT": 2,
                **overrides,
            },
        }

    configure()
    return configure


@pytest.fixture
def owner(make_user):
    return make_user(*OWNER_PERMS, email="owner@example.com")


@pytest.fixture
def module_admin(make_user):
    return make_user(*ADMIN_PERMS, email="admin@example.com")


def due_now(task: ScheduledTask) -> ScheduledTask:
    past = timezone.now() - dt.timedelta(seconds=5)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)
    return task


def run(task: ScheduledTask):
    """A pass, then one delivery round of the outbox (in a test's transaction the
    background delivery, which waits for the commit, does not start)."""
    report = run_pass(PassOptions(filters=Filters(task_ids=(task.pk,))))
    outbox.deliver_due()
    return report


# -- permanent failure -------------------------------------------------------------


def test_a_permanent_failure_mails_the_owner_and_module_admins_and_calls_the_webhook(
    alerting, receiver, make_task, owner, module_admin, make_user
):
    make_user(*OWNER_PERMS, email="bystander@example.com")
    task = make_task("fail", name="Nightly export", user=owner, max_retries=0, due=timezone.now())
    report = run(task)
    assert report.by_status == {"failed": 1}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[scheduler] “Nightly export” failed"
    assert set(message.to) == {"owner@example.com", "admin@example.com", "ops@example.com"}
    assert "it failed on purpose" in message.body and "will not be retried" in message.body
    assert receiver.kinds() == ["failed"]
    body = receiver.bodies[0]
    assert body["task"] == {
        "id": task.pk,
        "name": "Nightly export",
        "module": "testmod",
        "task_type": "fail",
    }
    assert body["details"]["error"] == "it failed on purpose"
    log = TaskExecutionLog.objects.get(task=task)
    assert body["details"]["run"] == log.run_id
    assert receiver.headers[0]["Authorization"] == "Bearer hook-token"
    assert receiver.headers[0]["Content-Type"] == "application/json"


def test_a_failure_that_will_be_retried_does_not_alert(alerting, receiver, make_task):
    task = make_task("fail", max_retries=3, due=timezone.now())
    run(task)
    assert mail.outbox == [] and receiver.bodies == []
    task.refresh_from_db()
    assert task.retry_count == 1


def test_an_exhausted_retry_alerts_once(alerting, receiver, make_task):
    task = make_task("fail", max_retries=1, due=timezone.now())
    run(task)
    assert receiver.bodies == []
    run(due_now(task))
    assert receiver.kinds() == ["failed"]  # the streak (2) is below FAILURE_STREAK (3)


# -- failure streaks and the rate limit ---------------------------------------------------


def test_n_consecutive_failures_raise_a_streak_alert(alerting, receiver, make_task):
    alerting(FAILURE_STREAK=3, ON=["streak"])
    task = make_task("raise", max_retries=10, due=timezone.now())
    for _n in range(2):
        run(due_now(task))
    assert receiver.bodies == []
    run(due_now(task))
    assert receiver.kinds() == ["streak"]
    assert receiver.bodies[0]["details"]["consecutive_failures"] == 3
    assert "boom from the task body" in receiver.bodies[0]["message"]
    assert mail.outbox[0].subject == f"[scheduler] “{task.name}” failed 3 times in a row"


def test_a_flapping_task_is_rate_limited_per_task_and_kind(alerting, receiver, make_task):
    alerting(FAILURE_STREAK=1, ON=["streak"], RATE_LIMIT=600)
    flapping = make_task("fail", max_retries=100, due=timezone.now())
    other = make_task("fail", max_retries=100, due=timezone.now())
    for _n in range(4):
        run(due_now(flapping))
    run(due_now(other))
    assert receiver.kinds() == ["streak", "streak"]
    assert [b["task"]["id"] for b in receiver.bodies] == [flapping.pk, other.pk]
    state = AlertState.objects.get(key=f"streak:{flapping.pk}")
    assert state.suppressed == 3
    # The window passes: the next alert goes out and says how many were held back.
    AlertState.objects.filter(pk=state.pk).update(
        last_sent_at=timezone.now() - dt.timedelta(hours=1)
    )
    run(due_now(flapping))
    assert receiver.kinds() == ["streak"] * 3
    assert receiver.bodies[-1]["suppressed"] == 3
    assert "3 similar alert(s) were held back" in mail.outbox[-1].body


def test_the_rate_limit_admits_once_per_window():
    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    assert ratelimit.admit("failed:1", now, 60) == (True, 0)
    assert ratelimit.admit("failed:1", now + dt.timedelta(seconds=59), 60) == (False, 0)
    assert ratelimit.admit("failed:2", now, 60) == (True, 0)
    assert ratelimit.admit("failed:1", now + dt.timedelta(seconds=61), 60) == (True, 1)
    assert ratelimit.admit("failed:1", now + dt.timedelta(seconds=62), 0) == (True, 0)


# -- overdue tasks and a silent scheduler -------------------------------------------------


def test_an_overdue_task_alerts_after_a_pass_once_per_window(alerting, receiver, make_task, owner):
    alerting(ON=["overdue"])
    late = make_task("noop", name="Late report", user=owner, timezone="Europe/Berlin")
    past = timezone.now() - dt.timedelta(minutes=30)
    ScheduledTask.objects.filter(pk=late.pk).update(next_run=past, occurrence_at=past)
    busy = make_task("noop", due=timezone.now())
    run(busy)  # a pass that does not touch the late task (e.g. another scheduler's --module)
    assert receiver.kinds() == ["overdue"]
    assert receiver.bodies[0]["task"]["id"] == late.pk
    assert "should have run at" in receiver.bodies[0]["message"]
    assert receiver.bodies[0]["details"]["late_seconds"] >= 1800
    assert "owner@example.com" in mail.outbox[0].to
    run(due_now(busy))
    assert receiver.kinds() == ["overdue"]  # rate-limited: not again on the next pass


def test_a_silent_scheduler_alerts_from_the_watchdog_command(
    alerting, receiver, make_task, make_user
):
    make_user("scheduler_app.SA_SCHEDULER_ADMIN", email="sched-admin@example.com")
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    SchedulerHeartbeat.objects.create(host="gone", pid=1, started_at=old, finished_at=old)
    task = make_task("noop")
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=old, occurrence_at=old)
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("scheduler_watchdog", "--alert", stdout=StringIO(), stderr=err)
    assert receiver.kinds() == ["silent"]  # not one alert per overdue task as well
    assert receiver.bodies[0]["task"] is None
    assert receiver.bodies[0]["details"]["last_pass_host"] == "gone"
    assert receiver.bodies[0]["details"]["overdue_tasks"] == 1
    assert set(mail.outbox[0].to) == {"sched-admin@example.com", "ops@example.com"}
    assert "Alert sent: [scheduler] The scheduler is silent" in err.getvalue()
    with pytest.raises(SystemExit):
        call_command("scheduler_watchdog", "--alert", stdout=StringIO(), stderr=StringIO())
    assert receiver.kinds() == ["silent"]  # rate-limited


# -- channels: failures are logged and retried, never raised ----------------------------------


def alert(kind: str = "failed") -> alerts.Alert:
    return alerts.Alert(
        kind,
        "subject",
        "message",
        dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        task_id=1,
        task_name="t",
        module_id="testmod",
        task_type="fail",
    )


def test_a_webhook_answering_500_is_retried_then_succeeds(alerting, receiver):
    alerting(WEBHOOK_RETRIES=2)
    receiver.statuses = [500, 503]
    waits = []
    assert senders.post_webhook(alert(), config.get(), sleep=waits.append)
    assert len(receiver.bodies) == 3 and waits == [0, 0]


def test_a_webhook_failing_every_time_is_retried_then_given_up_and_logged(
    alerting, receiver, make_task, caplog
):
    alerting(WEBHOOK_RETRIES=2, WEBHOOK_RETRY_DELAY=10, EMAIL=False, EMAIL_TO=[])
    receiver.statuses = [500] * 10
    task = make_task("fail", max_retries=0, due=timezone.now())
    with caplog.at_level(logging.WARNING, logger="scheduler_app.alerts"):
        report = run(task)  # the first attempt
        assert report.by_status == {"failed": 1}
        assert SchedulerHeartbeat.objects.count() == 1
        (row,) = PendingAlert.objects.all()
        assert (row.attempts, row.last_error) == (1, "webhook: HTTP 500")
        now = row.next_attempt_at
        assert outbox.deliver_due(now - dt.timedelta(seconds=1)) == []  # not due yet
        assert len(receiver.bodies) == 1
        outbox.deliver_due(now)  # the second, 10 s later
        row.refresh_from_db()
        assert row.attempts == 2 and row.next_attempt_at == now + dt.timedelta(seconds=20)
        outbox.deliver_due(row.next_attempt_at)  # the third and last
    assert len(receiver.bodies) == 3  # one attempt and two retries
    assert not PendingAlert.objects.exists()
    assert "Gave up the failed alert" in caplog.text and "HTTP 500" in caplog.text


def test_a_client_error_is_not_retried(alerting, receiver):
    receiver.statuses = [404]
    assert not senders.post_webhook(alert(), config.get(), sleep=lambda s: None)
    assert len(receiver.bodies) == 1


def test_an_unreachable_webhook_host_is_logged_and_retried(alerting, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    alerting(WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_RETRIES=1)
    waits = []
    with caplog.at_level(logging.WARNING, logger="scheduler_app.alerts"):
        assert not senders.post_webhook(alert(), config.get(), sleep=waits.append)
    assert waits == [0] and "attempt 2 of 2" in caplog.text


def test_a_slow_webhook_times_out(alerting, receiver):
    alerting(WEBHOOK_TIMEOUT=0.3, WEBHOOK_RETRIES=0)
    receiver.delay = 1.0
    started = time.monotonic()
    assert not senders.post_webhook(alert(), config.get(), sleep=lambda s: None)
    assert time.monotonic() - started < 1.0


def test_a_webhook_at_a_loopback_address_is_refused_by_default_and_not_retried(
    alerting, receiver, settings, caplog
):
    alerting(WEBHOOK_RETRIES=3)
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": []}
    waits = []
    with caplog.at_level(logging.WARNING, logger="scheduler_app.alerts"):
        assert not senders.post_webhook(alert(), config.get(), sleep=waits.append)
    assert receiver.bodies == [] and waits == []
    assert "attempt 1 of 4: refused: 127.0.0.1, a loopback address" in caplog.text
    assert "Could not deliver the failed alert" in caplog.text


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_webhook_redirect_is_not_followed(alerting, receiver, caplog, status):
    alerting(WEBHOOK_RETRIES=2)
    receiver.statuses = [status]
    receiver.location = receiver.url + "/elsewhere"
    with caplog.at_level(logging.WARNING, logger="scheduler_app.alerts"):
        assert not senders.post_webhook(alert(), config.get(), sleep=lambda s: None)
    assert len(receiver.bodies) == 1  # neither followed nor retried
    assert f"HTTP {status} (redirects are not followed)" in caplog.text


def test_a_webhook_at_a_refused_literal_address_is_a_w030_warning(alerting, settings):
    alerting(WEBHOOK_URL="http://10.1.2.3/hook")
    warnings = [e for e in check_settings() if e.id == "scheduler_app.W030"]
    assert warnings and "a private address" in warnings[0].msg and warnings[0].hint
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTBOUND_ALLOWED_NETWORKS": ["10.0.0.0/8"]}
    assert [e for e in check_settings() if e.id == "scheduler_app.W030"] == []


def test_a_failing_mail_server_is_logged_not_raised(alerting, receiver, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(senders, "send_mail", refuse)
    with caplog.at_level(logging.ERROR, logger="scheduler_app.alerts"):
        sent = alerts.send([alert()])
    assert len(sent) == 1 and receiver.kinds() == ["failed"]  # the webhook still went out
    assert "Could not e-mail" in caplog.text


# -- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alerts_setting", "fragment"),
    [
        ({"WEBHOOK_URL": "ftp://example.com/hook"}, "http:// or https://"),
        ({"WEBHOOK_URL": "file:///etc/passwd"}, "http:// or https://"),
        ({"WEBHOOK_URL": "https://"}, "names no host"),
        ({"EMAIL_TO": "ops@example.com"}, "EMAIL_TO"),
        ({"ON": ["failed", "sometimes"]}, "ON"),
        ({"FAILURE_STREAK": 0}, "FAILURE_STREAK"),
        ({"WEBHOOK_RETRIES": -1}, "WEBHOOK_RETRIES"),
        ({"WEBHOOK_HEADERS": {"X": 1}}, "WEBHOOK_HEADERS"),
        ({"SLACK": True}, "Unknown"),
        ("yes", "must be a dict"),
    ],
)
def test_bad_alert_settings_are_e020_and_switch_alerts_off(settings, alerts_setting, fragment):
    settings.SCHEDULER = {**settings.SCHEDULER, "ALERTS": alerts_setting}
    errors = [e for e in check_settings() if e.id == "scheduler_app.E020"]
    assert errors and fragment in errors[0].msg and errors[0].hint
    assert not config.get().enabled


def test_good_alert_settings_pass_the_checks(alerting):
    assert [
        e for e in check_settings() if e.id in ("scheduler_app.E020", "scheduler_app.E021")
    ] == []
    assert config.get().enabled


def _alerts_listening() -> bool:
    return triggers.on_runs_failed in hooks.runs_failed


def test_alerts_listen_to_failures_only_while_they_are_on(settings, alerting):
    assert _alerts_listening()
    settings.SCHEDULER = {**settings.SCHEDULER, "ALERTS": {}}
    assert not config.get().enabled
    assert not _alerts_listening()


def test_on_narrows_the_kinds_and_a_webhook_alone_is_enough(alerting, receiver):
    alerting(EMAIL=False, EMAIL_TO=[], ON=["silent"])
    assert (
        config.get().enabled and config.get().wants("silent") and not config.get().wants("failed")
    )
