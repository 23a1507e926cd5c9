"""Ending a schedule ("End schedule…") is confirmed on its own page, one task or many."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from scheduler_app.models import TaskStatus

MODULE_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
CHANGELIST = reverse("admin:scheduler_app_scheduledtask_changelist")


def end_url(task):
    return reverse("admin:scheduler_app_scheduledtask_end", args=[task.pk])


def cancel_action_url(task):
    return reverse("admin:scheduler_app_scheduledtask_action", args=[task.pk, "cancel"])


def change_url(task):
    return reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])


@pytest.fixture
def owner(make_user):
    return make_user(*MODULE_PERMS, is_staff=True, username="owner")


def status_of(task):
    task.refresh_from_db()
    return task.status


def test_the_task_page_offers_end_schedule_as_a_link_not_a_cancel_button(client, owner, make_task):
    task = make_task(name="Nightly", user=owner)
    client.force_login(owner)
    html = client.get(change_url(task)).content.decode()
    assert f'href="{end_url(task)}"' in html
    assert "End schedule…" in html
    assert 'data-action="cancel"' not in html
    assert ">Cancel<" not in html


def test_the_end_page_asks_first_and_says_an_ended_task_cannot_be_restarted(
    client, owner, make_task
):
    task = make_task(name="Nightly", user=owner)
    client.force_login(owner)
    response = client.get(end_url(task))
    assert response.status_code == 200
    html = response.content.decode()
    assert "End the schedule of “Nightly”?" in html
    assert "cannot be resumed or restarted" in html
    assert f'action="{cancel_action_url(task)}"' in html
    assert f'href="{change_url(task)}"' in html  # "No, take me back"
    assert status_of(task) == TaskStatus.PENDING  # opening the page changes nothing


def test_yes_ends_the_schedule_and_returns_to_the_task_page(client, owner, make_task):
    task = make_task(name="Nightly", user=owner)
    client.force_login(owner)
    response = client.post(cancel_action_url(task), {"post": "yes"}, follow=True)
    assert response.redirect_chain[-1][0] == change_url(task)
    assert status_of(task) == TaskStatus.CANCELLED
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Ended the schedule of 1 task" in m for m in texts)
    # An ended task offers neither the link nor Run now or Resume.
    html = response.content.decode()
    assert "End schedule…" not in html
    assert 'data-action="run_now"' not in html and 'data-action="resume"' not in html


def test_a_post_without_the_confirmation_only_shows_the_page(client, owner, make_task):
    task = make_task(name="Nightly", user=owner)
    client.force_login(owner)
    response = client.post(cancel_action_url(task), follow=True)
    assert response.redirect_chain == [(end_url(task), 302)]
    assert "End the schedule of “Nightly”?" in response.content.decode()
    assert status_of(task) == TaskStatus.PENDING


def test_a_user_who_may_only_view_gets_no_link_and_no_way_to_end(client, make_user, make_task):
    viewer = make_user("scheduler_app.SA_TESTMOD", is_staff=True, username="viewer")
    task = make_task(name="Nightly", owner=make_user())
    client.force_login(viewer)
    assert "End schedule…" not in client.get(change_url(task)).content.decode()
    page = client.get(end_url(task)).content.decode()
    assert "None of these schedules can be ended" in page
    assert 'value="Yes, end' not in page
    client.post(cancel_action_url(task), {"post": "yes"})
    assert status_of(task) == TaskStatus.PENDING


def test_the_changelist_action_confirms_then_ends_only_what_the_user_may_end(
    client, owner, make_user, make_task
):
    mine = make_task(name="mine", user=owner)
    ended = make_task(name="ended", user=owner)
    ended.status = TaskStatus.CANCELLED
    ended.save(update_fields=["status"])
    theirs = make_task(name="theirs", owner=make_user())
    client.force_login(owner)
    selection = {"action": "cancel_tasks", "_selected_action": [mine.pk, ended.pk, theirs.pk]}
    page = client.post(CHANGELIST, selection)
    assert page.status_code == 200
    html = page.content.decode()
    assert "End the selected schedules?" in html
    assert f'<li data-task="{mine.pk}">mine</li>' in html
    assert "already ended" in html and "you may not end it" in html
    assert status_of(mine) == TaskStatus.PENDING

    client.post(CHANGELIST, {**selection, "post": "yes"})
    assert status_of(mine) == TaskStatus.CANCELLED
    assert status_of(theirs) == TaskStatus.PENDING


def test_the_confirmation_keeps_select_across_and_the_filters(client, owner, make_task):
    tagged = [make_task(name=f"t{n}", user=owner, tags=["nightly"]) for n in range(3)]
    keep = make_task(name="other", user=owner)
    client.force_login(owner)
    url = f"{CHANGELIST}?tag=nightly"
    # As the changelist sends "select all": the page's boxes plus select_across.
    selection = {
        "action": "cancel_tasks",
        "select_across": "1",
        "index": "0",
        "_selected_action": [tagged[0].pk],
    }
    html = client.post(url, selection).content.decode()
    assert 'name="select_across" value="1"' in html
    assert f'action="{url}"' in html
    assert all(f'<li data-task="{t.pk}">' in html for t in tagged)
    client.post(url, {**selection, "post": "yes"})
    assert status_of(keep) == TaskStatus.PENDING
    assert all(status_of(t) == TaskStatus.CANCELLED for t in tagged)


def test_an_ended_task_stays_ended_as_docs_admin_md_says(owner, make_task):
    from django.core.exceptions import ValidationError

    from scheduler_app import services

    task = make_task(name="Nightly", user=owner)
    services.cancel(task, user=owner)
    for revive in (services.resume, services.run_now):
        with pytest.raises(ValidationError):
            revive(task, user=owner)
    services.update(task, user=owner, name="Renamed", cron="0 4 * * *")
    task.refresh_from_db()
    assert (task.name, task.status) == ("Renamed", TaskStatus.CANCELLED)
