"""Review probe: a failed run's error goes out in alert e-mails; a secret the body echoed in it
is masked there as on every page."""

from __future__ import annotations

import pytest
from django import forms
from django.core import mail
from django.utils import timezone

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, services, task_configs
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.monitoring.alerts import outbox
from scheduler_app.policy import permissions
from scheduler_app.registry import registry

SECRET = "s3cr3t-t0ken-value"


class TokenForm(forms.Form):
    token = forms.CharField()


class EchoesToken(SchedulableTask):
    name = "Echoes its token"
    config_form = TokenForm
    secret_fields = ("token",)

    def execute(self, context):
        return TaskResult.failure(f"401 for token {context.config['token']}", retry=False)


class AlertSecretProvider(TaskProvider):
    module_id = "alertsecret"
    name = "Alert secrets"
    base_permission = "SA_ALERTSECRET"
    task_types = {"echoes": EchoesToken}


@pytest.fixture
def secret_module(db):
    registry.register(AlertSecretProvider, strict=True)
    permissions.sync_permissions()
    yield
    registry.unregister("alertsecret")


def test_an_alert_mail_masks_the_secret_the_failed_run_echoed(secret_module, settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "RETRY_JITTER": 0,
        "ALERTS": {"EMAIL": True, "EMAIL_TO": ["ops@example.com"]},
    }
    task = services.schedule(
        user=None,
        module="alertsecret",
        task_type="echoes",
        schedule_type="cron",
        cron="0 * * * *",
        config={"token": SECRET},
        max_retries=0,
    )
    type(task).objects.filter(pk=task.pk).update(
        next_run=timezone.now(), occurrence_at=timezone.now()
    )
    run_pass(PassOptions())
    outbox.deliver_due()
    assert len(mail.outbox) == 1
    text = mail.outbox[0].subject + mail.outbox[0].body + str(mail.outbox[0].alternatives)
    assert SECRET not in text
    assert f"401 for token {task_configs.SECRET_MASK}" in mail.outbox[0].body


def test_the_times_in_an_alert_mail_read_in_the_one_format(secret_module, settings):
    """The e-mail is for people: its scheduled time reads like every other (the webhook's JSON
    keeps ISO 8601 for machines)."""
    import re

    test_an_alert_mail_masks_the_secret_the_failed_run_echoed(secret_module, settings)
    body = mail.outbox[0].body
    assert "scheduled_for" in body
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", body), body
