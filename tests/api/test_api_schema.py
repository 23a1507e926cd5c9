"""The OpenAPI schema, and a property-based run against it (schemathesis, in-process WSGI).

Every operation gets generated requests, valid and invalid, as a user who may
do everything (so the writes really happen) and as a user who may only see
one module (so refusals are exercised): no answer is a 500, and every answer
matches the schema (status code, content type, body).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from scheduler_app import services
from scheduler_app.api import tokens
from scheduler_app.models import RunStatus, TaskExecutionLog
from scheduler_app.policy import permissions
from tests.api.conftest import API, BASE

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_the_schema_is_openapi_3_and_lists_every_endpoint(client):
    response = client.get(f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["servers"] == [{"url": "/api/scheduler"}]
    assert set(schema["paths"]) == {
        "/tasks/",
        "/tasks/{id}/",
        "/tasks/{id}/run/",
        "/tasks/{id}/pause/",
        "/tasks/{id}/resume/",
        "/tasks/{id}/cancel/",
        "/tasks/{id}/stop/",
        "/tasks/{id}/clear-lock/",
        "/tasks/{id}/runs/",
        "/runs/{id}/",
        "/modules/",
        "/cron/validate/",
        "/status/",
        "/stats/",
        "/approvals/",
        "/approvals/{id}/approve/",
        "/approvals/{id}/reject/",
    }
    create = schema["paths"]["/tasks/"]["post"]
    assert {"201", "400", "401", "403", "409", "413"} <= set(create["responses"])
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection(db):
    """As Django's test client does: the test's connection (and transaction) stays open
    across requests, instead of being closed at the end of each."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def token_header(user, make_user, make_task) -> dict[str, str]:  # noqa: ANN001
    """A read-write token of ``user``, with data to work on: tasks, runs, a system task."""
    owner = make_user(permissions.SCHEDULER, BASE)
    for n in range(1, 4):
        task = make_task(owner=owner if n == 3 else user, cron=f"{n} * * * *")
        TaskExecutionLog.objects.create(
            task=task,
            run_id=f"run-{n}",
            scheduled_for=task.next_run,
            status=RunStatus.RUNNING if n == 2 else RunStatus.SUCCESS,
            result={"rows": n},
            output="done",
        )
    services.schedule(
        user=None,
        module="testmod",
        task_type="noop",
        schedule_type="cron",
        cron="0 0 * * *",
        is_system=True,
    )
    _token, secret = tokens.issue(user, scope="write")
    return {"Authorization": f"Token {secret}"}


@pytest.fixture
def admin_header(make_user, make_task):
    return token_header(make_user(permissions.SCHEDULER_ADMIN), make_user, make_task)


@pytest.fixture
def module_user_header(make_user, make_task):
    return token_header(make_user(permissions.SCHEDULER, BASE), make_user, make_task)


# Loaded at collection through the WSGI app (the schema view reads no database).
schema = schemathesis.openapi.from_wsgi(f"{API}schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_500_or_off_the_schema_for_an_admin(case, admin_header):
    case.call_and_validate(headers=admin_header, checks=CHECKS)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_500_or_off_the_schema_for_a_module_user(case, module_user_header):
    case.call_and_validate(headers=module_user_header, checks=CHECKS)
