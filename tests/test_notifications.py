"""Notification channels: e-mail and in-app delivery, failures that fail the run, the page."""

from __future__ import annotations

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from project.todo.models import Todo
from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import Notification, RunStatus, ScheduledTask, TaskExecutionLog
from scheduler_app.notifications import (
    Channel,
    ChannelsField,
    Message,
    NotificationError,
    Origin,
    notify,
    register_channel,
)
from scheduler_app.notifications import channels as channel_registry
from scheduler_app.notifications.context_processors import notifications as unread_processor

TODO_USER = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TODO")


class BrokenBackend(BaseEmailBackend):
    """An e-mail backend whose server is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture(autouse=True)
def inline(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "RETRY_JITTER": 0,
        "RETRY_BACKOFF_BASE": 1,
    }


@pytest.fixture
def ann(make_user):
    return make_user(*TODO_USER, username="ann", email="ann@example.com")


@pytest.fixture
def bob(make_user):
    return make_user(username="bob", email="bob@example.com")


def test_email_sends_text_and_html_to_each_address_separately(ann, bob, make_user):
    no_address = make_user(username="noaddress", email="")
    origin = Origin(task_id=None, task_name="Nightly check", module_id="todo")
    counts = notify(
        [ann, bob, no_address, "Extra@Example.com", "extra@example.com"],
        Message(subject="Heads up", text="Line one\nLine two", url="https://x.example/1"),
        ["email"],
        origin,
    )

    assert counts == {"email": 3}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "Extra@Example.com",
        "ann@example.com",
        "bob@example.com",
    ]
    first = mail.outbox[0]
    assert (
        first.subject == "Heads up"
        and "Line two" in first.body
        and "https://x.example/1" in first.body
    )
    assert "Nightly check" in first.body
    html, mimetype = first.alternatives[0]
    assert mimetype == "text/html" and "Line one<br>Line two" in html and "Nightly check" in html


def test_in_app_writes_one_row_per_user_and_none_twice_for_the_same_run(ann, bob):
    origin = Origin(task_id=None, module_id="todo", run_key="7@2026-06-01T12:00:00+00:00")
    message = Message(subject="Heads up", text="Body", level="warning")
    assert notify([ann, bob, ann, "someone@example.com"], message, ["in_app"], origin) == {
        "in_app": 2
    }
    notify([ann, bob], message, ["in_app"], origin)  # a retry of the same run
    notify([ann], Message(subject="Another", text="Body"), ["in_app"], origin)

    assert Notification.objects.for_user(ann).count() == 2
    assert Notification.objects.for_user(bob).unread().count() == 1
    note = Notification.objects.for_user(bob).get()
    assert (note.subject, note.level, note.module_id) == ("Heads up", "warning", "todo")


def test_a_failing_channel_is_named_and_the_others_still_deliver(ann, mail_backend):
    mail_backend("tests.test_notifications.BrokenBackend")
    with pytest.raises(NotificationError) as caught:
        notify([ann], Message(subject="S", text="T"), ["email", "in_app", "pigeon"])
    error = caught.value
    assert set(error.failures) == {"email", "pigeon"}
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in error.failures["email"]
    assert "Unknown notification channel 'pigeon'" in error.failures["pigeon"]
    assert error.delivered == {"in_app": 1}
    assert str(error).startswith("Notification channel failed (email: ")


@pytest.mark.django_db(transaction=True)
def test_a_failing_channel_fails_the_run_with_a_clear_error_and_the_retry_delivers(
    ann, mail_backend
):
    Todo.objects.create(
        title="Renew certificate", assignee=ann, due_at=timezone.now() + dt.timedelta(hours=2)
    )
    task = services.schedule(
        user=ann,
        module="todo",
        task_type="deadline_reminder",
        config={"hours_before": 24, "channels": ["in_app", "email"]},
        schedule_type="cron",
        cron="0 * * * *",
        max_retries=2,
    )
    past = timezone.now() - dt.timedelta(minutes=1)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=past, occurrence_at=past)

    mail_backend("tests.test_notifications.BrokenBackend")
    run_pass(PassOptions())
    failed = TaskExecutionLog.objects.get(task=task)
    assert failed.status == RunStatus.FAILED
    assert "notification(s) not delivered" in failed.error_message
    assert (
        "email: smtplib.SMTPServerDisconnected: Connection unexpectedly closed"
        in failed.error_message
    )
    task.refresh_from_db()
    assert task.status == "pending" and task.retry_count == 1  # retried like any failure

    mail_backend("django.core.mail.backends.locmem.EmailBackend")
    ScheduledTask.objects.filter(pk=task.pk).update(
        next_run=timezone.now() - dt.timedelta(seconds=1)
    )
    run_pass(PassOptions())
    retry = TaskExecutionLog.objects.filter(task=task).latest("pk")
    assert retry.status == RunStatus.SUCCESS and retry.attempt == 2
    assert [m.to for m in mail.outbox] == [["ann@example.com"]]
    assert Notification.objects.for_user(ann).count() == 1  # the first attempt's row, not a second


def test_channels_are_validated_in_the_config(ann):
    with pytest.raises(ValidationError) as caught:
        services.schedule(
            user=ann,
            module="todo",
            task_type="deadline_reminder",
            config={"hours_before": 4, "channels": ["pigeon"]},
            schedule_type="cron",
            cron="0 * * * *",
        )
    assert "channels" in caught.value.message_dict
    task = services.schedule(
        user=ann,
        module="todo",
        task_type="deadline_reminder",
        config={"hours_before": 4},
        schedule_type="cron",
        cron="0 * * * *",
    )
    assert task.config["channels"] == ["in_app"]  # the default


def test_a_registered_channel_is_offered_and_used(ann, monkeypatch):
    sent = []

    class Chat(Channel):
        name = "chat"
        label = "Team chat"

        def send(self, recipients, message, origin):
            sent.append((message.subject, [r.get_username() for r in recipients]))
            return len(recipients)

    monkeypatch.setattr(channel_registry, "_channels", dict(channel_registry._channels))
    register_channel(Chat())
    assert ("chat", "Team chat") in ChannelsField().choices
    assert notify([ann], Message(subject="Hi", text="T"), ["chat"]) == {"chat": 1}
    assert sent == [("Hi", ["ann"])]


# -- reading them ------------------------------------------------------------------------


def test_the_notifications_page_shows_the_unread_count_and_marks_read(client, ann, bob):
    mine = Notification.objects.create(recipient=ann, subject="First", body="One")
    Notification.objects.create(recipient=ann, subject="Second", body="Two", url="/crm/schedules/")
    theirs = Notification.objects.create(recipient=bob, subject="Not yours")
    client.force_login(ann)

    page = client.get(reverse("scheduler_notifications:list"))
    html = page.content.decode()
    assert page.status_code == 200 and "2 unread notifications" in html
    assert "First" in html and "Not yours" not in html

    assert client.post(reverse("scheduler_notifications:read", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("scheduler_notifications:read", args=[mine.pk]))
    assert response.status_code == 302
    assert Notification.objects.for_user(ann).unread().count() == 1
    client.post(reverse("scheduler_notifications:read_all"))
    assert Notification.objects.for_user(ann).unread().count() == 0
    assert Notification.objects.for_user(bob).unread().count() == 1
    assert client.get(reverse("scheduler_notifications:read_all")).status_code == 405


def test_the_page_needs_a_login(client):
    response = client.get(reverse("scheduler_notifications:list"))
    assert response.status_code == 302


def test_template_tag_and_lazy_context_processor(ann, django_assert_num_queries):
    Notification.objects.create(recipient=ann, subject="Unread")
    request = RequestFactory().get("/")
    request.user = ann
    with django_assert_num_queries(0):
        context = unread_processor(request)  # nothing is counted until a template asks
    with django_assert_num_queries(1):
        assert int(context["scheduler_unread_notifications"]) == 1

    html = Template(
        "{% load scheduler_notifications %}{% unread_notifications %}|{% notifications_link %}"
    ).render(RequestContext(request, {}))
    assert (
        html.startswith("1|") and 'href="/notifications/"' in html and "Notifications (1)" in html
    )
    assert (
        Template("{% load scheduler_notifications %}{% unread_notifications %}").render(Context({}))
        == "0"
    )
