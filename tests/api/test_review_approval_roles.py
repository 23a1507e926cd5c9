"""Review probe: every role gets the same answer about one approval request from the API,
the request's page, its e-mail-less admin page and the list: 404 when it may not see it,
403 when it may see but not decide, and a decision when it is an approver."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from scheduler_app.models import Approval, ApprovalStatus
from tests.api.conftest import API
from tests.test_permissions_matrix import ACTIONS, MATRIX

VIEW = ACTIONS.index("view")
#: Roles that hold SA_TESTMOD_ADMIN (the request's approver permission) or are superusers.
APPROVERS = {"module admin", "superuser"}


@pytest.mark.parametrize("role", [r for r in MATRIX if r != "anonymous"])
def test_each_role_gets_one_answer_on_every_surface(role, scene, client):  # noqa: F811
    user, task = scene(role)
    approval = Approval.objects.create(
        task=task,
        title="Publish?",
        permission="scheduler_app.SA_TESTMOD_ADMIN",
        requested_at=timezone.now(),
    )
    sees = MATRIX[role][VIEW] or role in APPROVERS
    api = APIClient()
    api.force_login(user)
    client.force_login(user)

    listed = {a["id"] for a in api.get(f"{API}approvals/").json()["results"]}
    assert (approval.pk in listed) == sees
    page = client.get(f"/scheduler/approvals/{approval.pk}/")
    assert page.status_code == (200 if sees else 404)

    expected = 200 if role in APPROVERS else 403 if sees else 404
    # The page first (a refusal changes nothing), then the API.
    posted = client.post(f"/scheduler/approvals/{approval.pk}/", {"decision": "reject"})
    assert posted.status_code == {200: 302, 403: 403, 404: 404}[expected]
    approval.refresh_from_db()
    if expected == 200:
        assert approval.status == ApprovalStatus.REJECTED
        Approval.objects.filter(pk=approval.pk).update(
            status=ApprovalStatus.PENDING, decided_at=None, decided_by=None
        )
    else:
        assert approval.status == ApprovalStatus.PENDING
    response = api.post(f"{API}approvals/{approval.pk}/reject/", {}, format="json")
    assert response.status_code == expected, response.json()
    if user.is_staff:
        admin = client.get(f"/admin/scheduler_app/approval/{approval.pk}/change/")
        assert admin.status_code in ((200,) if sees else (302, 404))
