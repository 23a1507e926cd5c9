"""Per-module scheduling pages, the live preview endpoint and the template tags."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from scheduler_app.forms import TaskScheduleForm
from scheduler_app.models import ScheduledTask
from scheduler_app.views import ScheduleTaskView

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")
NEW = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "record"})


@pytest.fixture
def user(make_user):
    return make_user(*PERMS)


def post_data(**overrides):
    data = {
        "name": "From the page",
        "schedule_type": "cron",
        "cron": "*/15 * * * *",
        "run_at": "",
        "interval_every": "",
        "interval_unit": "hours",
        "event": "",
        "timezone": "Europe/Berlin",
        "priority": "5",
        "max_retries": "2",
        "timeout": "60",
        "tags": "",
        "config-note": "n",
        "config-sleep": "",
    }
    data.update(overrides)
    return data


def test_new_page_renders_schedule_and_config_fields(client, user):
    client.force_login(user)
    response = client.get(NEW)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="cron"' in html and 'name="config-note"' in html
    assert 'data-preview-url="/scheduler/preview/"' in html
    assert "schedule_form.js" in html


def test_new_page_needs_login_and_permission(client, make_user):
    assert client.get(NEW).status_code == 302
    client.force_login(make_user("scheduler_app.SA_SCHEDULER"))
    assert client.get(NEW).status_code == 403


def test_unknown_task_type_is_404(client, user):
    client.force_login(user)
    url = reverse("scheduler_app:new", kwargs={"module": "testmod", "task_type": "nope"})
    assert client.get(url).status_code == 404
    url = reverse("scheduler_app:new", kwargs={"module": "nope", "task_type": "record"})
    assert client.get(url).status_code == 404


def test_posting_the_form_schedules_the_task(client, user):
    client.force_login(user)
    response = client.post(NEW, post_data())
    task = ScheduledTask.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduler_app:edit", args=[task.pk])
    assert (task.owner, task.timezone, task.max_retries, task.config["note"]) == (
        user,
        "Europe/Berlin",
        2,
        "n",
    )


def test_staff_are_sent_to_the_admin_task_page_or_next(client, make_user):
    staff = make_user(*PERMS, is_staff=True)
    client.force_login(staff)
    response = client.post(NEW, post_data())
    task = ScheduledTask.objects.get()
    assert response["Location"] == reverse(
        "admin:scheduler_app_scheduledtask_change", args=[task.pk]
    )
    # The same schedule again is a duplicate the person confirms (scheduler_app.presentation.overlap_warning).
    response = client.post(NEW, post_data(next="/reports/", confirm_overlaps="1"))
    assert response["Location"] == "/reports/"
    response = client.post(NEW, post_data(next="https://evil.example/", confirm_overlaps="1"))
    assert "evil" not in response["Location"]


def test_invalid_post_shows_inline_errors_and_saves_nothing(client, user):
    client.force_login(user)
    response = client.post(NEW, post_data(cron="99 * * * *", timezone="Nowhere/Land"))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'class="form-row field-cron errors"' in html
    assert "Unknown time zone" in html
    assert not ScheduledTask.objects.exists()


def test_edit_page_updates_through_the_services(client, user, make_task):
    task = make_task(user=user, name="old", cron="0 6 * * *")
    client.force_login(user)
    url = reverse("scheduler_app:edit", args=[task.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, post_data(name="new", cron="0 7 * * *", enabled="on"))
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.name, task.cron_expression) == ("new", "0 7 * * *")


def test_edit_page_hides_unviewable_and_refuses_view_only_tasks(client, make_user, make_task):
    owner = make_user(*PERMS)
    task = make_task(owner=owner, name="theirs")
    stranger = make_user("scheduler_app.SA_SCHEDULER")
    client.force_login(stranger)
    url = reverse("scheduler_app:edit", args=[task.pk])
    assert client.get(url).status_code == 404
    client.force_login(make_user(*PERMS))  # a module user may view, not edit
    assert client.get(url).status_code == 403
    assert client.post(url, post_data(name="hijack")).status_code == 403


def test_system_tasks_are_not_edited(client, make_user, make_task):
    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task(name="sys", is_system=True)
    client.force_login(admin)
    assert client.get(reverse("scheduler_app:edit", args=[task.pk])).status_code == 403


def test_preview_describes_the_cron_and_lists_five_runs_in_the_zone(client, user):
    client.force_login(user)
    response = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "cron", "cron": "30 6 * * 1-5", "timezone": "America/New_York"},
    )
    payload = response.json()
    assert payload["valid"] is True
    assert "06:30" in payload["description"] and "Monday through Friday" in payload["description"]
    assert len(payload["runs"]) == 5
    assert all(
        "06:30" in run["text"] and ("EDT" in run["text"] or "EST" in run["text"])
        for run in payload["runs"]
    )


def test_preview_returns_field_errors(client, user):
    client.force_login(user)
    payload = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "cron", "cron": "1 2 3", "timezone": "UTC"},
    ).json()
    assert payload["valid"] is False
    assert "5 fields" in payload["errors"]["cron"][0]
    payload = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "one_time", "run_at": "2000-01-01T00:00", "timezone": "UTC"},
    ).json()
    assert "past" in payload["errors"]["run_at"][0]


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 22-2 * * *", "write 22-23,0-2"),
        ("0 0 L * *", "not standard cron"),
        ("0 0 31-31 2 *", "never matches"),
        ("1," * 150 + "1 * * * *", "Ensure this value has at most 200 characters"),
    ],
)
def test_preview_explains_refused_cron_expressions(client, user, cron, words):
    client.force_login(user)
    response = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "cron", "cron": cron, "timezone": "UTC"},
    )
    assert response.status_code == 400
    payload = response.json()
    assert payload["valid"] is False and words in payload["errors"]["cron"][0]


def test_preview_says_how_the_day_fields_combine(client, user):
    client.force_login(user)
    payload = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "cron", "cron": "45 8 */6 * 5", "timezone": "UTC"},
    ).json()
    assert payload["description"] == (
        "At 08:45, only on Friday that is also day 1, 7, 13, 19, 25 or 31 of the month (UTC)"
    )


def test_preview_of_an_interval_and_of_an_event(client, user):
    client.force_login(user)
    payload = client.get(
        reverse("scheduler_app:preview"),
        {
            "schedule_type": "recurring",
            "interval_every": "15",
            "interval_unit": "minutes",
            "timezone": "UTC",
        },
    ).json()
    assert payload["valid"] and len(payload["runs"]) == 5
    gaps = [
        dt.datetime.fromisoformat(b["at"]) - dt.datetime.fromisoformat(a["at"])
        for a, b in zip(payload["runs"], payload["runs"][1:], strict=False)
    ]
    assert set(gaps) == {dt.timedelta(minutes=15)}
    payload = client.get(
        reverse("scheduler_app:preview"),
        {"schedule_type": "event", "event": "report.ready", "timezone": "UTC"},
    ).json()
    assert payload["valid"] and payload["runs"] == [] and "report.ready" in payload["description"]


def test_preview_needs_login(client):
    assert client.get(reverse("scheduler_app:preview")).status_code == 302


def test_template_tags_link_and_embed_the_form(user, make_task, rf: RequestFactory):
    task = make_task(user=user, cron="0 6 * * *", timezone="Europe/Berlin")
    form = TaskScheduleForm("testmod", "record", user=user)
    rendered = Template(
        "{% load scheduler_tags %}{% schedule_url 'testmod' 'record' '/back/' %}|"
        "{% edit_task_url task %}|{% next_runs task 3 as runs %}{{ runs|length }}|"
        "{% scheduler_form form %}"
    ).render(Context({"task": task, "form": form}))
    assert rendered.startswith(NEW + "?next=%2Fback%2F|")
    assert f"/scheduler/task/{task.pk}/edit/|3|" in rendered
    assert 'class="sched-form"' in rendered and 'name="config-note"' in rendered


def test_modules_can_subclass_the_view(rf, user):
    class RecordView(ScheduleTaskView):
        module_id = "testmod"
        task_type = "record"
        success_url = "/done/"

    request = rf.post("/x/", post_data())
    request.user = user
    request._dont_enforce_csrf_checks = True
    from django.contrib.messages.storage.fallback import FallbackStorage

    request.session = {}
    request._messages = FallbackStorage(request)
    response = RecordView.as_view()(request)
    assert response.status_code == 302 and response["Location"] == "/done/"
    assert ScheduledTask.objects.filter(owner=user).count() == 1
    assert timezone.now()


# -- the preview's query parameters are bounded, and calendars follow the policy ----

PREVIEW = "/scheduler/preview/"
CRON = {"schedule_type": "cron", "cron": "0 12 * * *", "timezone": "UTC"}


def secret_calendar():
    from scheduler_app.services import calendars

    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    return calendars.create_calendar(
        user=None,
        name="Secret merger freeze",
        periods=[calendars.Period(tomorrow, tomorrow, label="Project Falcon")],
    )


@pytest.mark.parametrize(
    "params",
    [
        {"calendars": "²"},
        {"calendars": "1" * 25},
        {"calendars": "-1"},
        {"calendars": "1.5"},
        {"calendars": "0x10"},
        {"calendars": "１"},  # a full-width digit
        {"calendars": "9" * 5000},
        {"calendars": [str(n) for n in range(1, 200)]},
        {"calendars": "x" * 100_000},
        {"interval_every": "9" * 30, "schedule_type": "recurring", "cron": ""},
        {"interval_every": "-5", "schedule_type": "recurring", "cron": ""},
        {"schedule_type": "one_time", "run_at": "9999-12-31T23:59", "timezone": "America/New_York"},
        {"schedule_type": "one_time", "run_at": "9999-12-31T23:59"},
        {
            "schedule_type": "recurring",
            "cron": "",
            "run_at": "9999-12-30T23:59",
            "interval_every": "1",
            "interval_unit": "minutes",
            "timezone": "America/New_York",
        },
        {
            "schedule_type": "recurring",
            "cron": "",
            "run_at": "0001-01-01T00:00",
            "interval_every": "1",
            "interval_unit": "minutes",
            "timezone": "Asia/Tokyo",
        },
        {"run_at": "2026-13-45T99:99", "schedule_type": "one_time"},
        {"timezone": "Nowhere/Land"},
        {"timezone": "x" * 10_000},
        {"timezone": "UTC\x00"},
        {"cron": "0 6 * * *" + "1" * 100_000},
        {"schedule_type": ["cron", "nope"]},
        {"interval_unit": "fortnights", "interval_every": "5", "schedule_type": "recurring"},
    ],
)
def test_a_malformed_preview_parameter_is_a_400_with_reasons_never_a_500(client, user, params):
    client.raise_request_exception = False
    client.force_login(user)
    response = client.get(PREVIEW, {**CRON, **params})
    assert response.status_code == 400, response.content[:300]
    payload = response.json()
    assert payload["valid"] is False and payload["runs"] == []
    assert payload["errors"] and all(
        isinstance(m, str) for v in payload["errors"].values() for m in v
    )


def test_the_preview_refuses_an_unknown_calendar_id_like_a_malformed_one(client, user):
    client.force_login(user)
    response = client.get(PREVIEW, {**CRON, "calendars": "987654"})
    assert response.status_code == 400
    assert response.json()["errors"]["calendars"] == ["No blackout calendar with the id 987654."]


def test_a_user_without_scheduling_rights_cannot_read_calendars_through_the_preview(
    client, make_user, make_task
):
    calendar = secret_calendar()
    client.force_login(make_user())  # logged in, no permission at all
    hidden = client.get(PREVIEW, {**CRON, "calendars": str(calendar.pk)})
    missing = client.get(PREVIEW, {**CRON, "calendars": str(calendar.pk + 1000)})
    assert hidden.status_code == missing.status_code == 400
    text = hidden.content.decode()
    assert "Secret merger" not in text and "Falcon" not in text
    assert hidden.json()["errors"]["calendars"] == [
        f"No blackout calendar with the id {calendar.pk}."
    ]
    # The same user sees the calendars of a task shared with them, and only those.
    from scheduler_app import services

    owner = make_user(*PERMS)
    task = make_task(owner=owner, name="shared", calendars=[calendar])
    viewer = make_user()
    services.share(task, user=owner, users=[viewer], permissions=["view"])
    client.force_login(viewer)
    answer = client.get(PREVIEW, {**CRON, "calendars": str(calendar.pk)}).json()
    assert answer["valid"] and any("Project Falcon" in r["blackout"] for r in answer["runs"])


def test_a_user_who_may_schedule_sees_every_calendar_in_the_preview(client, user):
    calendar = secret_calendar()
    client.force_login(user)
    response = client.get(PREVIEW, {**CRON, "calendars": [str(calendar.pk), str(calendar.pk)]})
    assert response.status_code == 200
    assert any("Secret merger freeze" in r["blackout"] for r in response.json()["runs"])


def test_the_admin_history_page_number_is_bounded(client, make_user, make_task):
    admin = make_user(is_superuser=True, is_staff=True)
    task = make_task(name="paged")
    client.force_login(admin)
    url = reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk])
    for page in ("1" * 25, "-" + "1" * 25, "²", "9" * 5000, "1e9"):
        assert client.get(url, {"logs_page": page}).status_code == 200, page


@pytest.mark.parametrize("ticked", [False, True])
def test_the_edit_page_of_an_ended_task_asks_before_running_it_again(
    client, user, make_task, ticked
):
    # A one-time task that ran: a new run time is kept, and runs only when asked to.
    later = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    task = make_task(user=user, name="once", schedule_type="one_time", cron=None, run_at=later)
    ScheduledTask.objects.filter(pk=task.pk).update(status="success", next_run=None)
    client.force_login(user)
    url = reverse("scheduler_app:edit", args=[task.pk])
    page = client.get(url)
    assert "Run again on this schedule" in page.content.decode()
    wanted = later + dt.timedelta(days=1)
    local = timezone.localtime(wanted, dt.UTC).strftime("%Y-%m-%dT%H:%M")
    data = post_data(schedule_type="one_time", cron="", run_at=local, timezone="UTC")
    data["config-note"] = task.config.get("note", "")
    if ticked:
        data["resume"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].options.errors
    task.refresh_from_db()
    assert task.run_at == wanted
    if ticked:
        assert (task.status, task.next_run) == ("pending", wanted)
    else:
        assert (task.status, task.next_run) == ("success", None)


def test_the_edit_page_of_a_live_task_offers_no_resume(client, user, make_task):
    task = make_task(user=user, name="live", cron="0 6 * * *")
    client.force_login(user)
    page = client.get(reverse("scheduler_app:edit", args=[task.pk]))
    assert "Run again on this schedule" not in page.content.decode()
