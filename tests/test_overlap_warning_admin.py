"""The duplicate-schedule warning on the admin's task change form, as on the module pages:
not an error, the viewable tasks named and the others counted, saved once confirmed."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry

from scheduler_app import services
from scheduler_app.models import ScheduledTask, TaskAuditEvent
from tests.test_admin_save import change_url, form_data
from tests.test_overlap_warning import PERMS, existing, listed


def staff(make_user, *perms, **fields):
    return make_user(*PERMS, *perms, is_staff=True, **fields)


def test_a_schedule_change_that_repeats_a_task_warns_and_saves_nothing(
    client, make_user, make_task
):
    user = staff(make_user)
    first = existing(make_task, user, name="Morning report")
    task = existing(make_task, user, name="Later report", cron="0 7 * * *")
    client.force_login(user)

    response = client.post(change_url(task), form_data(task, cron_expression="0 6 * * *"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="overlap-warning"' in html and 'name="confirm_overlaps"' in html
    assert listed(html, "duplicate") == [first.pk]
    # A warning to confirm, not a mistake to correct.
    assert "errornote" not in html and "Please correct" not in html
    task.refresh_from_db()
    assert task.cron_expression == "0 7 * * *"
    assert not TaskAuditEvent.objects.filter(task=task, action="edited").exists()
    assert not LogEntry.objects.filter(object_id=str(task.pk), action_flag=2).exists()


def test_confirming_saves_the_change_once(client, make_user, make_task):
    user = staff(make_user)
    existing(make_task, user, name="Morning report")
    task = existing(make_task, user, name="Later report", cron="0 7 * * *")
    client.force_login(user)

    data = form_data(task, cron_expression="0 6 * * *", confirm_overlaps="1")
    response = client.post(change_url(task), data)

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.cron_expression == "0 6 * * *"
    assert TaskAuditEvent.objects.filter(task=task, action="edited", source="admin").count() == 1


def test_a_task_firing_in_the_same_minute_is_listed(client, make_user, make_task):
    user = staff(make_user)
    hourly = existing(make_task, user, name="Hourly", cron="0 * * * *")
    task = existing(make_task, user, name="Weekly", cron="30 9 * * 1")
    client.force_login(user)

    # Daily at the hour of the hourly task's next run: both fire in that minute.
    at = hourly.next_run
    cron = f"{at.minute} {at.hour} * * *"
    response = client.post(change_url(task), form_data(task, cron_expression=cron))

    assert response.status_code == 200
    assert listed(response.content.decode(), "same-minute") == [hourly.pk]


def test_changes_that_leave_the_schedule_alone_do_not_warn(client, make_user, make_task):
    user = staff(make_user)
    existing(make_task, user, name="Morning report")
    twin = existing(make_task, user, name="Twin")  # already a duplicate, confirmed long ago
    client.force_login(user)

    response = client.post(change_url(twin), form_data(twin, name="Twin, renamed"))

    assert response.status_code == 302
    twin.refresh_from_db()
    assert twin.name == "Twin, renamed"


def test_other_configs_are_no_overlap(client, make_user, make_task):
    user = staff(make_user)
    existing(make_task, user, name="Morning report", config={"note": "other"})
    task = existing(make_task, user, name="Later report", cron="0 7 * * *")
    client.force_login(user)

    response = client.post(change_url(task), form_data(task, cron_expression="0 6 * * *"))

    assert response.status_code == 302


def test_tasks_the_user_may_not_view_are_counted_not_named(client, make_user, make_task):
    owner = make_user(*PERMS, username="owner")
    guest = make_user("scheduler_app.SA_SCHEDULER", username="guest", is_staff=True)
    shared = existing(make_task, owner, name="Shared with guest", cron="0 7 * * *")
    services.share(shared, user=owner, users=[guest], permissions=["change"])
    hidden = existing(make_task, owner, name="Secret schedule")
    client.force_login(guest)

    response = client.post(change_url(shared), form_data(shared, cron_expression="0 6 * * *"))

    html = response.content.decode()
    assert response.status_code == 200
    assert listed(html, "duplicate") == []
    assert 'data-hidden="1"' in html
    assert "Secret schedule" not in html and f'data-task="{hidden.pk}"' not in html
    assert ScheduledTask.objects.get(pk=shared.pk).cron_expression == "0 7 * * *"


def test_a_real_error_still_reads_as_one_and_the_warning_waits(client, make_user, make_task):
    user = staff(make_user)
    existing(make_task, user, name="Morning report")
    task = existing(make_task, user, name="Later report", cron="0 7 * * *")
    client.force_login(user)

    data = form_data(task, cron_expression="0 6 * * *", priority="99")
    response = client.post(change_url(task), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert "errornote" in html and 'id="overlap-warning"' not in html
