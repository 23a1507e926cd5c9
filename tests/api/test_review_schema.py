"""Schemathesis on the approvals and runs endpoints with real rows behind the ids: pending,
decided and expired requests, runs with progress; no 500 and no answer off the schema."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings

from scheduler_app.api import tokens
from scheduler_app.models import Approval, ApprovalStatus, RunStatus, TaskExecutionLog
from scheduler_app.policy import permissions
from tests.api.conftest import BASE
from tests.api.test_api_schema import CHECKS, _keep_the_test_connection, schema  # noqa: F401

#: Calls so far: picks the id of each case in turn.
CALLS = itertools.count()
ENDPOINTS = schema.include(path_regex=r"^/(approvals/|runs/|tasks/\{id\}/runs/)")


@pytest.fixture
def scene(make_user, make_task):
    """Ids of real rows for every {id}: approvals in each state, runs with progress."""
    approver = make_user(permissions.SCHEDULER, BASE, "scheduler_app.SA_TESTMOD_ADMIN")
    task = make_task(owner=approver, config={"note": "hello"})
    now = timezone.now()
    ids = {"approval": [], "run": [], "task": [task.pk]}
    for status, expires in (
        (ApprovalStatus.PENDING, now + dt.timedelta(hours=1)),
        (ApprovalStatus.PENDING, now - dt.timedelta(hours=1)),
        (ApprovalStatus.APPROVED, None),
    ):
        ids["approval"].append(
            Approval.objects.create(
                task=task,
                title="Publish?",
                permission="scheduler_app.SA_TESTMOD_ADMIN",
                status=status,
                requested_at=now,
                expires_at=expires,
                decided_at=now if status != ApprovalStatus.PENDING else None,
            ).pk
        )
    for n, (done, total) in enumerate([(0, None), (40, 100), (10**12, 3), (5, 0)]):
        ids["run"].append(
            TaskExecutionLog.objects.create(
                task=task,
                run_id=f"p{n}",
                scheduled_for=now + dt.timedelta(minutes=n),
                status=RunStatus.RUNNING,
                progress_done=done,
                progress_total=total,
                progress_message="rows",
                progress_at=now,
                output="x",
            ).pk
        )
    _token, secret = tokens.issue(approver, scope="write")
    return ids, {"Authorization": f"Token {secret}"}


@ENDPOINTS.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_500_and_no_answer_off_the_schema_on_real_approvals_and_runs(case, scene):
    ids, header = scene
    if "{id}" in case.path and case.path_parameters is not None:
        kind = "approval" if "approvals" in case.path else "task" if "tasks" in case.path else "run"
        choices = ids[kind]
        # Mostly real ids (the 200/403/409 answers), sometimes what was generated.
        seed = next(CALLS) % (len(choices) + 1)
        if seed < len(choices):
            case.path_parameters = {**case.path_parameters, "id": str(choices[seed])}
    case.call_and_validate(headers=header, checks=CHECKS)


def test_the_published_schema_is_valid_openapi_and_documents_the_new_answers(client):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        response = client.get(
            "/api/scheduler/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
        )
        problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    assert problems == {}  # no operation the generator had to guess
    schema_data = response.json()
    validate_schema(schema_data)  # against the OpenAPI meta-schema drf-spectacular ships
    paths = schema_data["paths"]
    decide = paths["/approvals/{id}/approve/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(decide["responses"])
    run = paths["/runs/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert run["$ref"].endswith("/RunDetail")
    assert "progress" in schema_data["components"]["schemas"]["RunDetail"]["properties"]
