"""Probes of the admin's delete selection: forged ids, hidden tasks, view-only rights."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from scheduler_app.models import ScheduledTask

MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
CHANGELIST = reverse("admin:scheduler_app_scheduledtask_changelist")

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):
    return make_user(*MODULE_PERMS, is_staff=True, username="owner")


def hidden(make_task):
    """A task of a module the owner has no permission on."""
    config = {"title": "Secret plan", "permission": "SA_TESTMOD_ADMIN"}
    return make_task("approval", module="workflow", name="Secret plan", config=config)


def exists(task) -> bool:
    return ScheduledTask.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("confirm", [None, "yes"])
def test_a_forged_id_of_a_hidden_task_is_neither_deleted_nor_named(
    client, owner, make_task, confirm
):
    secret = hidden(make_task)
    mine = make_task(name="mine", user=owner)
    client.force_login(owner)
    data = {"action": "delete_selected", "_selected_action": [mine.pk, secret.pk]}
    if confirm:
        data["post"] = confirm
    response = client.post(CHANGELIST, data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    messages = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert "Secret plan" not in html and "Secret plan" not in messages
    assert f'data-task="{secret.pk}"' not in html
    assert exists(secret)
    assert exists(mine) is (confirm is None)


@pytest.mark.parametrize("ids", [["abc"], ["1.5"], ["-1"], [str(2**70)], ["1\x00"], [""], ["²"]])
@pytest.mark.parametrize("confirm", [None, "yes"])
def test_odd_selected_ids_are_not_a_server_error(client, owner, make_task, ids, confirm):
    mine = make_task(name="mine", user=owner)
    client.force_login(owner)
    data = {"action": "delete_selected", "_selected_action": ids}
    if confirm:
        data["post"] = confirm
    response = client.post(CHANGELIST, data, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["The selection was not understood; nothing was done."]
    assert exists(mine)


@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:scheduler_app_blackoutcalendar_changelist"),
        reverse("admin:scheduler_app_inboundhook_changelist"),
        reverse("admin:scheduler_app_taskauditevent_changelist"),
    ],
)
def test_other_changelists_refuse_odd_ids_alike(admin_client, url):
    response = admin_client.post(
        url, {"action": "delete_selected", "_selected_action": ["abc"]}, follow=True
    )
    assert response.status_code == 200


@pytest.mark.parametrize("confirm", ["Yes", "no", "1", "true", ""])
def test_only_the_exact_confirmation_deletes(client, owner, make_task, confirm):
    mine = make_task(name="mine", user=owner)
    client.force_login(owner)
    data = {"action": "delete_selected", "_selected_action": [mine.pk], "post": confirm}
    response = client.post(CHANGELIST, data)
    assert response.status_code == 200
    assert exists(mine)


def test_a_view_only_user_cannot_delete_by_posting_the_action(client, make_user, make_task):
    viewer = make_user(*MODULE_PERMS, is_staff=True, username="viewer")
    theirs = make_task(name="theirs", owner=make_user())
    client.force_login(viewer)
    data = {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"}
    response = client.post(CHANGELIST, data, follow=True)
    assert response.status_code in (200, 403)
    assert exists(theirs)


def test_a_select_across_with_yes_deletes_only_what_may_be_deleted(client, owner, make_task):
    secret = hidden(make_task)
    mine = make_task(name="mine", user=owner)
    system = make_task(name="system", is_system=True)
    client.force_login(owner)
    data = {
        "action": "delete_selected",
        "_selected_action": [mine.pk],
        "select_across": "1",
        "post": "yes",
    }
    response = client.post(CHANGELIST, data, follow=True)
    messages = " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert not exists(mine) and exists(secret) and exists(system)
    assert "Secret plan" not in messages
