"""The admin offers only what the user can do: actions, the list's title, delete, filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scheduler_app import services

CHANGELIST = reverse("admin:scheduler_app_scheduledtask_changelist")
MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
EVERY_ACTION = {"run_tasks_now", "pause_tasks", "resume_tasks", "cancel_tasks", "delete_selected"}


def offered(client) -> tuple[set[str], str]:
    """The changelist's action names and its title, for the logged-in user."""
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    form = response.context["action_form"]
    names = {name for name, _label in form.fields["action"].choices if name} if form else set()
    return names, response.context["title"]


def task_page(client, task) -> str:
    url = reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def owner(make_user):
    return make_user(*MODULE_PERMS, is_staff=True, username="owner")


@pytest.mark.parametrize(
    "perms",
    [
        pytest.param(("scheduler_app.SA_SCHEDULER_VIEW",), id="SA_SCHEDULER_VIEW"),
        pytest.param(("scheduler_app.SA_TESTMOD",), id="module base permission"),
        pytest.param(MODULE_PERMS, id="may schedule but owns nothing yet"),
    ],
)
def test_a_user_who_may_only_view_is_offered_nothing_to_do(
    client, make_user, owner, make_task, perms
):
    task = make_task(name="Nightly", user=owner)
    viewer = make_user(*perms, is_staff=True, username="viewer")
    client.force_login(viewer)
    names, title = offered(client)
    assert names == set()
    assert title == "Select scheduled task to view"
    html = task_page(client, task)
    for button in ('data-action="run_now"', 'data-action="pause"', "End schedule…"):
        assert button not in html
    assert "/delete/" not in html
    assert 'name="_save"' not in html


def test_an_owner_is_offered_every_action_and_the_change_title(client, owner, make_task):
    make_task(name="Mine", user=owner)
    client.force_login(owner)
    names, title = offered(client)
    assert names == EVERY_ACTION
    assert title == "Select scheduled task to change"


def test_a_user_a_task_is_shared_with_to_run_is_offered_run_pause_resume(
    client, make_user, owner, make_task
):
    task = make_task(name="Mine", user=owner)
    runner = make_user(is_staff=True, username="runner")
    services.share(task, user=owner, users=[runner], permissions=["view", "run"])
    client.force_login(runner)
    names, title = offered(client)
    assert names == {"run_tasks_now", "pause_tasks", "resume_tasks"}
    assert title == "Select scheduled task to view"
    html = task_page(client, task)
    assert 'data-action="run_now"' in html and "End schedule…" not in html


def filter_choices(client, parameter: str) -> list[str]:
    response = client.get(CHANGELIST)
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "parameter_name", None) == parameter:
            return [value for value, _label in spec.lookup_choices]
    return []


def test_filters_list_only_the_modules_and_types_of_tasks_the_user_may_see(
    client, make_user, make_task
):
    # A user who sees only their own testmod "record" tasks.
    loner = make_user("scheduler_app.SA_SCHEDULER", is_staff=True, username="loner")
    make_task(name="Mine", owner=loner)
    client.force_login(loner)
    assert filter_choices(client, "module") == ["testmod"]
    assert filter_choices(client, "task_type") == ["testmod.record"]

    # A user who sees no task: no module, no type.
    nobody = make_user(is_staff=True, username="nobody")
    client.force_login(nobody)
    assert filter_choices(client, "module") == []
    assert filter_choices(client, "task_type") == []

    # A module user sees every type of that module; a scheduler admin every module.
    client.force_login(make_user("scheduler_app.SA_TESTMOD", is_staff=True, username="mod"))
    types = filter_choices(client, "task_type")
    assert filter_choices(client, "module") == ["testmod"]
    assert {"testmod.record", "testmod.fail"} <= set(types)
    assert all(t.startswith("testmod.") for t in types)
    client.force_login(make_user(is_staff=True, is_superuser=True, username="root"))
    assert {"reports", "crm", "todo", "testmod"} <= set(filter_choices(client, "module"))
