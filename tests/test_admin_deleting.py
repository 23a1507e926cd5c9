"""Deleting a selection in the admin: the app's own confirmation, per task, like ending.

Django's page lists related objects and refuses the whole selection when one task
may not be deleted; the app's page deletes what may be deleted and says, per task,
what is left and why.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from scheduler_app.models import AuditAction, ScheduledTask, TaskAuditEvent

MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
CHANGELIST = reverse("admin:scheduler_app_scheduledtask_changelist")

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_user):
    return make_user(*MODULE_PERMS, is_staff=True, username="owner")


@pytest.fixture
def mixed(owner, make_user, make_task):
    """A task of the owner, a system task and another user's task the owner may see."""
    return {
        "mine": make_task(name="mine", user=owner),
        "system": make_task(name="system", is_system=True),
        "theirs": make_task(name="theirs", owner=make_user()),
    }


def exists(task) -> bool:
    return ScheduledTask.objects.filter(pk=task.pk).exists()


def selection(*tasks, **extra):
    return {"action": "delete_selected", "_selected_action": [t.pk for t in tasks], **extra}


def test_a_mixed_selection_is_confirmed_on_the_apps_page_listing_each_task(client, owner, mixed):
    client.force_login(owner)
    page = client.post(CHANGELIST, selection(*mixed.values()))
    assert page.status_code == 200
    assert page.templates[0].name.endswith("delete_selected_confirmation.html")
    html = page.content.decode()
    assert "Delete the selected tasks?" in html
    assert f'<ul id="deleting"><li data-task="{mixed["mine"].pk}">mine</li></ul>' in html
    assert "system <span" in html and "a system task; pause it instead" in html
    assert "theirs <span" in html and "you may not delete it" in html
    # Not Django's page: no related objects, no blanket "Permission denied".
    assert "Summary" not in html and "Permission denied" not in html
    assert "run history" in html and "audit trail stays" in html
    assert all(exists(t) for t in mixed.values())


def test_yes_deletes_what_may_be_deleted_and_says_what_was_skipped(client, owner, mixed):
    client.force_login(owner)
    response = client.post(CHANGELIST, selection(*mixed.values(), post="yes"), follow=True)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert not exists(mixed["mine"])
    assert exists(mixed["system"]) and exists(mixed["theirs"])
    assert "Deleted 1 task: “mine”." in messages
    assert "Skipped “system”: System tasks cannot be deleted." in messages
    assert "Skipped “theirs”: You may not delete this task." in messages
    event = TaskAuditEvent.objects.get(task_ref=mixed["mine"].pk, action=AuditAction.DELETED)
    assert (event.actor_name, event.source) == ("owner", "admin")


def test_a_selection_nothing_of_which_may_be_deleted_offers_no_yes(client, owner, mixed):
    client.force_login(owner)
    html = client.post(CHANGELIST, selection(mixed["system"], mixed["theirs"])).content.decode()
    assert "None of these tasks can be deleted." in html
    assert "Yes, delete" not in html


def test_an_administrator_is_still_refused_system_tasks(client, admin_user, mixed):
    client.force_login(admin_user)
    html = client.post(CHANGELIST, selection(*mixed.values())).content.decode()
    deleting = html.split('<ul id="deleting">')[1].split("</ul>")[0]
    assert "mine" in deleting and "theirs" in deleting and "system" not in deleting
    client.post(CHANGELIST, selection(*mixed.values(), post="yes"))
    assert exists(mixed["system"])
    assert not exists(mixed["mine"]) and not exists(mixed["theirs"])


def test_the_confirmation_keeps_select_across_and_the_filters(client, owner, make_task):
    tagged = [make_task(name=f"t{n}", user=owner, tags=["nightly"]) for n in range(3)]
    keep = make_task(name="other", user=owner)
    client.force_login(owner)
    url = f"{CHANGELIST}?tag=nightly"
    chosen = selection(tagged[0], select_across="1", index="0")
    html = client.post(url, chosen).content.decode()
    assert 'name="select_across" value="1"' in html and f'action="{url}"' in html
    assert 'name="action" value="delete_selected"' in html
    assert all(f'<li data-task="{t.pk}">' in html for t in tagged)
    client.post(url, {**chosen, "post": "yes"})
    assert exists(keep) and not any(exists(t) for t in tagged)


def test_a_user_who_may_delete_nothing_is_not_offered_the_action(client, make_user, make_task):
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", is_staff=True)
    task = make_task(name="x")
    client.force_login(viewer)
    form = client.get(CHANGELIST).context["action_form"]
    assert form is None or "delete_selected" not in dict(form.fields["action"].choices)
    client.post(CHANGELIST, selection(task, post="yes"))
    assert exists(task)
