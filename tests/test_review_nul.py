"""Review probes: a NUL (which PostgreSQL refuses in text) in any query string the new pages
read is a normal answer, never a 500 (run with DATABASE_URL to see PostgreSQL's side)."""

from __future__ import annotations

import pytest

NUL = "a\x00b"


@pytest.fixture
def root_client(client, make_user):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/scheduler/approvals/", {"module": NUL}),
        ("/scheduler/live/running/", {"module": NUL}),
        ("/admin/scheduler_app/taskauditevent/", {"q": NUL}),
        ("/admin/scheduler_app/hookdelivery/", {"q": NUL}),
        ("/admin/scheduler_app/inboundhook/", {"q": NUL}),
        ("/admin/scheduler_app/approval/", {"q": NUL}),
        ("/api/scheduler/approvals/", {"module": NUL}),
        ("/api/scheduler/tasks/", {"search": NUL}),
    ],
)
def test_a_nul_in_a_query_is_an_answer(root_client, path, params):
    response = root_client.get(path, params)
    assert response.status_code in (200, 400), response.content[:300]


def test_a_nul_in_the_audit_trails_actor_filter_is_an_answer(root_client, make_task):
    task = make_task()
    response = root_client.get(
        f"/admin/scheduler_app/scheduledtask/{task.pk}/change/", {"audit_actor": NUL}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("object_id", ["abc", "²", "9" * 40, "1.5", "%00"])
@pytest.mark.parametrize("model", ["approval", "workflowrun"])
def test_any_object_id_in_the_approval_and_workflow_run_admin_is_a_404(
    root_client, model, object_id
):
    for method in ("get", "post"):
        response = getattr(root_client, method)(f"/admin/scheduler_app/{model}/{object_id}/change/")
        assert response.status_code in (302, 404), (method, response.status_code)
