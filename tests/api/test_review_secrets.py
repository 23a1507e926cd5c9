"""Review probes: a task's secret never leaves through any surface that shows a run's texts,
whole or in part, wherever the surface cuts the text (the cut lands inside the secret)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from scheduler_app import services
from scheduler_app.api.serializers import MAX_TRACEBACK
from scheduler_app.models import RunStatus, TaskExecutionLog
from scheduler_app.policy import permissions
from scheduler_app.services import live
from tests.api.conftest import API

SECRET = "s3cr3t-value-0123456789"


def leaked(text: str) -> list[str]:
    """Pieces of SECRET (8 characters or more) found in ``text``."""
    pieces = {SECRET[i : i + 8] for i in range(len(SECRET) - 7)}
    return sorted(piece for piece in pieces if piece in text)


@pytest.fixture
def admin(make_user):
    return make_user(permissions.SCHEDULER_ADMIN)


@pytest.fixture
def task(admin):
    return services.schedule(
        user=admin,
        module="http",
        task_type="request",
        schedule_type="cron",
        cron="0 * * * *",
        config={"url": "https://example.com/hook", "secret_headers": f"X-Api-Key: {SECRET}"},
    )


def straddling(cut: int, *, at_end: bool) -> str:
    """A text whose cut at ``cut`` characters (from the start, or from the end) splits SECRET."""
    if at_end:  # the kept part is the last `cut` characters; SECRET starts just before it
        return "x" * 10 + SECRET + "y" * (cut - 10)
    return "x" * (cut - 10) + SECRET + "y" * 10


@pytest.mark.parametrize("status", [RunStatus.RUNNING, RunStatus.FAILED])
def test_the_live_json_masks_a_secret_cut_by_its_output_tail_and_error(client, admin, task, status):
    log = TaskExecutionLog.objects.create(
        task=task,
        run_id="r1",
        scheduled_for=timezone.now(),
        status=status,
        error_message=straddling(1000, at_end=False),
        output=straddling(live.OUTPUT_TAIL, at_end=True),
        progress_done=1,
        progress_message=f"sent {SECRET}",
    )
    client.force_login(admin)
    for url in (f"/scheduler/live/runs/{log.pk}/", f"/scheduler/live/tasks/{task.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert leaked(response.content.decode()) == [], url


def test_the_api_masks_a_secret_cut_by_its_bounds(client_for, admin, task, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "OUTPUT_LIMIT": 100}
    log = TaskExecutionLog.objects.create(
        task=task,
        run_id="r1",
        scheduled_for=timezone.now(),
        status=RunStatus.FAILED,
        output=straddling(100, at_end=False),
        traceback=straddling(MAX_TRACEBACK, at_end=False),
        error_message=f"401 for key {SECRET}",
    )
    api = client_for(admin)
    detail = api.get(f"{API}runs/{log.pk}/")
    assert detail.status_code == 200
    assert leaked(detail.content.decode()) == []
    assert detail.json()["output_truncated"] is True and len(detail.json()["output"]) <= 100


def test_the_api_run_history_masks_the_error(client_for, admin, task):
    TaskExecutionLog.objects.create(
        task=task,
        run_id="r1",
        scheduled_for=timezone.now(),
        status=RunStatus.FAILED,
        error_message=f"401 for key {SECRET}",
    )
    response = client_for(admin).get(f"{API}tasks/{task.pk}/runs/")
    assert response.status_code == 200 and response.json()["count"] == 1
    assert leaked(response.content.decode()) == []
    assert response.json()["results"][0]["error_message"].startswith("401 for key ")


def test_the_admin_run_history_and_run_page_mask_the_secret(client, admin, task):
    admin.is_staff = True
    admin.save()
    log = TaskExecutionLog.objects.create(
        task=task,
        run_id="r1",
        scheduled_for=timezone.now(),
        status=RunStatus.FAILED,
        error_message=f"401 for key {SECRET}",
        traceback=f"Traceback: {SECRET}",
        output=f"sending {SECRET}",
        result={"sent": {"X-Api-Key": SECRET}},
    )
    client.force_login(admin)
    base = f"/admin/scheduler_app/scheduledtask/{task.pk}"
    for url in (f"{base}/change/", f"{base}/logs/{log.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaked(response.content.decode()) == [], url
    log.refresh_from_db()
    assert SECRET in log.error_message  # the stored run is unchanged
