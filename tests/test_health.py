"""The JSON health endpoint: 200 healthy, 503 unhealthy; token- or permission-protected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from scheduler_app.models import ScheduledTask, SchedulerHeartbeat

pytestmark = pytest.mark.django_db

URL = reverse("scheduler_app:health")
TOKEN = "s3cret-health-token-0123456789"


@pytest.fixture(autouse=True)
def token(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "HEALTH_TOKEN": TOKEN}


def beat(ago: dt.timedelta) -> None:
    at = timezone.now() - ago
    SchedulerHeartbeat.objects.create(host="sched-1", pid=9, started_at=at, finished_at=at)


def overdue_task(make_task, name: str = "Nightly export") -> ScheduledTask:
    task = make_task(name=name)
    late = timezone.now() - dt.timedelta(hours=1)
    ScheduledTask.objects.filter(pk=task.pk).update(next_run=late, occurrence_at=late)
    return task


def test_healthy_is_200_with_the_last_pass(client):
    beat(dt.timedelta(seconds=20))
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    payload = response.json()
    assert payload["status"] == "ok"
    assert payload["scheduler"]["silent"] is False
    assert 15 <= payload["scheduler"]["seconds_since_last_pass"] <= 60
    assert payload["overdue"] == {"count": 0, "more": False, "tasks": []}
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_silent_scheduler_is_503(client):
    beat(dt.timedelta(minutes=30))
    response = client.get(URL, {"token": TOKEN})
    assert response.status_code == 503
    payload = response.json()
    assert payload["status"] == "unhealthy" and payload["scheduler"]["silent"] is True
    assert payload["problems"] == ["The scheduler is silent."]


def test_overdue_tasks_are_503_and_a_token_sees_no_names_or_hosts(client, make_task):
    beat(dt.timedelta(seconds=5))
    task = overdue_task(make_task)
    payload = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert payload["status"] == "unhealthy"
    assert payload["overdue"]["count"] == 1
    row = payload["overdue"]["tasks"][0]
    assert row["id"] == task.pk and row["late_seconds"] >= 3600 and "name" not in row
    assert payload["scheduler"]["last_pass_host"] is None
    assert "Nightly export" not in str(payload)


def test_a_user_with_view_permission_sees_names(client, make_user, make_task):
    beat(dt.timedelta(seconds=5))
    overdue_task(make_task)
    client.force_login(make_user("scheduler_app.SA_SCHEDULER_VIEW"))
    response = client.get(URL)
    assert response.status_code == 503
    payload = response.json()
    assert payload["overdue"]["tasks"][0]["name"] == "Nightly export"
    assert payload["scheduler"]["last_pass_host"] == "sched-1"
    assert "should have run at" in payload["problems"][0]


def test_without_credentials_it_is_401_and_tells_nothing(client):
    beat(dt.timedelta(minutes=30))
    response = client.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "status" not in response.json()


@pytest.mark.parametrize("given", ["wrong", TOKEN[:-1], TOKEN + "x", " "])
def test_a_wrong_token_is_403(client, given):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {given}")
    assert response.status_code in (401, 403)
    assert "status" not in response.json()


def test_a_user_without_view_permission_is_403(client, make_user):
    client.force_login(make_user("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD"))
    assert client.get(URL).status_code == 403


def test_no_token_configured_means_no_token_is_accepted(client, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "HEALTH_TOKEN": ""}
    assert client.get(URL, {"token": ""}).status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get(URL, {"token": "anything"}).status_code == 403


def test_only_get(client):
    assert client.post(URL, {"token": TOKEN}).status_code == 405


def test_the_token_is_compared_in_constant_time(client, monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    beat(dt.timedelta(seconds=5))
    assert client.get(URL, {"token": TOKEN}).status_code == 200
    assert calls == [(TOKEN.encode(), TOKEN.encode())]
