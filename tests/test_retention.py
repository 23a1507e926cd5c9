"""Log retention as a use case (services.retention): what the command and the system task share."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError

from scheduler_app.models import RunStatus, TaskExecutionLog
from scheduler_app.services import retention

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def log_started(task, days: float, status: str = RunStatus.SUCCESS) -> TaskExecutionLog:  # noqa: ANN001
    started = NOW - dt.timedelta(days=days)
    return TaskExecutionLog.objects.create(
        task=task, run_id=uuid.uuid4().hex, scheduled_for=started, started_at=started, status=status
    )


@pytest.mark.django_db
def test_prune_deletes_finished_logs_before_the_cutoff_of_its_clock(make_task, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 2)  # several chunks
    task = make_task()
    old = [log_started(task, 11 + i) for i in range(5)]
    kept = log_started(task, 9)
    live = log_started(task, 40, status=RunStatus.RUNNING)
    dry = retention.prune(10, dry_run=True, now=NOW)
    assert (dry.logs, dry.lines()) == (5, ["5 log row(s) older than 10 day(s) would be deleted."])
    assert TaskExecutionLog.objects.count() == 7
    report = retention.prune(10, now=NOW)
    assert report.logs == 5 and report.lines() == ["Deleted 5 log row(s) older than 10 day(s)."]
    assert set(TaskExecutionLog.objects.values_list("pk", flat=True)) == {kept.pk, live.pk}
    assert not TaskExecutionLog.objects.filter(pk__in=[o.pk for o in old]).exists()


@pytest.mark.django_db
def test_prune_refuses_a_negative_number_of_days_on_that_field(make_task):
    log_started(make_task(), 1)
    with pytest.raises(ValidationError) as caught:
        retention.prune(-1, now=NOW)
    assert "days" in caught.value.message_dict
    assert TaskExecutionLog.objects.count() == 1
