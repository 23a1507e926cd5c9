"""approvals/ in the HTTP API: list, approve, reject; 404 / 403 / 409 by the same policy."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import Approval, ApprovalStatus
from tests.api.conftest import API

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


pytestmark = pytest.mark.usefixtures("inline")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def approver(make_user):
    return make_user("scheduler_app.SA_TESTMOD_ADMIN", username="approver")


@pytest.fixture
def approval(make_task, clock):
    step = make_task(
        "approval",
        module="workflow",
        name="Review",
        config={"title": "Publish?", "permission": "SA_TESTMOD_ADMIN", "expire_after_minutes": 60},
        schedule_type="event",
        event="never",
        cron=None,
        due=START,
    )
    run_pass(PassOptions())
    return Approval.objects.get(task=step)


@pytest.mark.django_db(transaction=True)
def test_the_list_shows_what_the_user_may_decide(client_for, approval, approver, make_user):
    body = client_for(approver).get(f"{API}approvals/").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert (row["id"], row["status"], row["may_decide"]) == (approval.pk, "pending", True)
    assert client_for(make_user(username="nobody")).get(f"{API}approvals/").json()["count"] == 0
    filtered = client_for(approver).get(f"{API}approvals/?status=approved").json()
    assert filtered["count"] == 0
    assert client_for(approver).get(f"{API}approvals/?module=workflow").json()["count"] == 1
    assert client_for(approver).get(f"{API}approvals/?module=crm").json()["count"] == 0
    bad = client_for(approver).get(f"{API}approvals/?status=maybe")
    assert bad.status_code == 400 and "status" in bad.json()["errors"]
    assert client_for().get(f"{API}approvals/").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_approve_with_a_comment_then_a_second_decision_is_a_409(client_for, approval, approver):
    api = client_for(approver)
    response = api.post(f"{API}approvals/{approval.pk}/approve/", {"comment": "ok"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "approved" and response.json()["comment"] == "ok"
    again = api.post(f"{API}approvals/{approval.pk}/reject/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["reason"] == "decided" and again.json()["status"] == "approved"
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED and approval.comment == "ok"


@pytest.mark.django_db(transaction=True)
def test_hidden_is_404_visible_but_not_an_approver_is_403(client_for, approval, make_user):
    outsider = make_user(username="outsider")
    assert client_for(outsider).post(f"{API}approvals/{approval.pk}/approve/").status_code == 404
    assert client_for(outsider).post(f"{API}approvals/abc/approve/").status_code == 404
    # A viewer of every task sees the request but is not an approver.
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", username="viewer")
    response = client_for(viewer).post(f"{API}approvals/{approval.pk}/reject/")
    assert response.status_code == 403 and "SA_TESTMOD_ADMIN" in response.json()["detail"]
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_an_expired_request_is_a_409_and_a_long_comment_a_400(
    client_for, approval, approver, clock
):
    api = client_for(approver)
    too_long = api.post(
        f"{API}approvals/{approval.pk}/approve/", {"comment": "x" * 2001}, format="json"
    )
    assert too_long.status_code == 400 and "comment" in too_long.json()["errors"]
    clock.move_to(START + dt.timedelta(minutes=61))
    response = api.post(f"{API}approvals/{approval.pk}/approve/", {}, format="json")
    assert response.status_code == 409 and response.json()["reason"] == "expired"
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING  # the pass expires it, not the refusal


@pytest.mark.django_db(transaction=True)
def test_the_list_takes_the_same_number_of_queries_for_many_requests(
    client_for, approval, approver, django_assert_max_num_queries
):
    api = client_for(approver)
    api.get(f"{API}approvals/")  # warm: the session, the content types
    with django_assert_max_num_queries(12) as one:
        api.get(f"{API}approvals/")
    for n in range(20):
        Approval.objects.create(
            task=approval.task,
            title=f"more {n}",
            permission=approval.permission,
            requested_at=START,
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert api.get(f"{API}approvals/").json()["count"] == 21
