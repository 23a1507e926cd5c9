"""Probes of the admin task form's "Then run (on success)" list with a task the user may not view."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scheduler_app import services
from scheduler_app.models import WorkflowEdge
from tests.test_admin_save import form_data
from tests.test_forms_edges import hidden_task

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")

pytestmark = pytest.mark.django_db


def test_a_hidden_success_target_is_neither_shown_nor_lost_nor_blocking(
    client, make_user, make_task
):
    user = make_user(*PERMS, is_staff=True, username="staffer")
    mine = make_task(name="mine", user=user, cron="0 6 * * *")
    other = make_task(name="other", user=user, cron="0 8 * * *")
    secret = hidden_task(make_task, "Secret plan")
    services.add_edge(mine, secret, user=None)
    client.force_login(user)
    url = reverse("admin:scheduler_app_scheduledtask_change", args=[mine.pk])

    html = client.get(url).content.decode()
    assert "Secret plan" not in html, html[
        html.find("Secret plan") - 300 : html.find("Secret plan") + 100
    ]
    assert f'<option value="{secret.pk}"' not in html

    # The form as the page sends it, with one more viewable task chained.
    response = client.post(url, {**form_data(mine), "on_success": [str(other.pk)]})
    assert response.status_code == 302, response.content.decode()[:3000]
    targets = set(
        WorkflowEdge.objects.filter(source=mine, condition="success").values_list(
            "target_id", flat=True
        )
    )
    assert targets == {other.pk, secret.pk}


def test_an_api_patch_of_on_success_keeps_edges_to_hidden_tasks_and_does_not_name_them(
    make_user, make_task, settings
):
    from rest_framework.test import APIClient

    from scheduler_app.models import TaskAuditEvent

    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}
    user = make_user(*PERMS, username="apiuser")
    mine = make_task(name="mine", user=user, cron="0 6 * * *")
    other = make_task(name="other", user=user, cron="0 8 * * *")
    secret = hidden_task(make_task, "Secret plan")
    services.add_edge(mine, secret, user=None)
    client = APIClient()
    client.force_login(user)
    response = client.patch(
        f"/api/scheduler/tasks/{mine.pk}/", {"on_success": [other.pk]}, format="json"
    )
    assert response.status_code == 200, response.content
    targets = set(
        WorkflowEdge.objects.filter(source=mine, condition="success").values_list(
            "target_id", flat=True
        )
    )
    assert targets == {other.pk, secret.pk}
    event = TaskAuditEvent.objects.filter(task_ref=mine.pk, action="edited").latest("pk")
    assert event.changes["on_success"] == [[], [other.pk]]
    response = client.patch(f"/api/scheduler/tasks/{mine.pk}/", {"on_success": []}, format="json")
    assert response.status_code == 200
    assert WorkflowEdge.objects.filter(source=mine, target=secret).exists()
    assert not WorkflowEdge.objects.filter(source=mine, target=other).exists()
