"""Review probes of the live JSON: any id, any query string, any method; JSON 4xx answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.models import RunStatus, TaskExecutionLog

FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def run(make_task):
    task = make_task("noop")
    return TaskExecutionLog.objects.create(
        task=task,
        run_id="live",
        scheduled_for=timezone.now(),
        status=RunStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=5),
        progress_done=2**62,
        progress_total=1,
    )


@pytest.mark.parametrize("number", ["0", "9" * 19, "9" * 40, "0" * 30 + "1"])
@pytest.mark.parametrize("kind", ["runs", "tasks"])
def test_any_number_in_the_path_is_an_answer_never_a_500(admin_client, run, kind, number):
    response = admin_client.get(f"/scheduler/live/{kind}/{number}/")
    assert response.status_code in (200, 404), response.content[:200]
    assert response.json()


def test_a_run_reporting_more_than_its_total_is_at_most_100_percent(admin_client, run):
    body = admin_client.get(f"/scheduler/live/runs/{run.pk}/").json()["run"]
    assert body["percent"] == 100.0 and body["running"]


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(
    params=st.dictionaries(
        st.sampled_from(["module", "page", "status", "x"]), st.text(max_size=100), max_size=3
    )
)
def test_any_query_string_of_running_is_a_200_or_a_json_400(admin_client, run, params):
    response = admin_client.get("/scheduler/live/running/", params)
    assert response.status_code in (200, 400), (params, response.content[:200])
    assert response.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["runs/1/", "tasks/1/", "running/"])
def test_other_methods_are_a_405_with_a_json_reason(admin_client, run, method, path):
    response = getattr(admin_client, method)(f"/scheduler/live/{path}")
    assert response.status_code == 405
    assert response["Allow"] in ("GET, HEAD", "GET")
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["runs/1/", "tasks/1/", "running/"])
def test_anonymous_is_a_401_in_json_and_learns_nothing(client, run, path):
    response = client.get(f"/scheduler/live/{path}")
    assert response.status_code == 401
    assert set(response.json()) == {"detail"}
