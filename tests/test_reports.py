"""The reports demo module: its task types, config validation, download view and seed_demo."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from project.reports import demo
from project.reports.models import Report, ReportSource
from scheduler_app import policy, services, task_configs
from scheduler_app.context import TaskContext
from scheduler_app.models import ScheduledTask, TaskExecutionLog
from scheduler_app.registry import registry

REPORTS_USER_PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_REPORTS")


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def reporter(make_user):
    return make_user(*REPORTS_USER_PERMS, email="reporter@example.com")


@pytest.fixture
def user_report(db) -> Report:
    return Report.objects.create(
        name="User list", source=ReportSource.USERS, description="All accounts."
    )


def schedule(user, task_type: str, config: dict, **kwargs) -> ScheduledTask:
    kwargs.setdefault("schedule_type", "cron")
    kwargs.setdefault("cron", "0 6 * * *")
    return services.schedule(
        user=user, module="reports", task_type=task_type, config=config, **kwargs
    )


def run(task: ScheduledTask, scheduled_for: dt.datetime):
    """Execute ``task`` the way a worker does: cleaned config in a TaskContext."""
    task_cls = registry.get_task_type(task.module_id, task.task_type)
    context = TaskContext(
        task_id=task.pk,
        module_id=task.module_id,
        task_type=task.task_type,
        name=task.name,
        config=task_configs.clean_config(task_cls, task.config),
        scheduled_for=scheduled_for,
        owner_id=task.owner_id,
        timezone=task.timezone,
    )
    return task_cls(registry.get(task.module_id), task.task_type).execute(context)


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_provider_is_registered_with_its_three_task_types():
    provider = registry.get("reports")
    assert provider.base_permission == "SA_REPORTS"
    assert provider.admin_permission_name() == "SA_REPORTS_ADMIN"
    assert set(provider.task_types) == {"generate_report", "email_report", "export_report"}


def test_generate_report_writes_csv_to_default_storage(media_root, reporter, user_report, now):
    task = schedule(reporter, "generate_report", {"report": user_report.pk})
    assert task.config == {"report": user_report.pk}

    result = run(task, now)

    assert result.ok, result.message
    path = result.data["path"]
    assert path == "reports/user-list/user-list-20260601-120000.csv"
    rows = read_csv((media_root / path).read_text(encoding="utf-8"))
    assert rows[0][:2] == ["username", "email"]
    assert ["reporter@example.com"] == [r[1] for r in rows[1:]]
    assert result.data["rows"] == 1


def test_generate_report_twice_in_one_second_keeps_both_files(
    media_root, reporter, user_report, now
):
    task = schedule(reporter, "generate_report", {"report": user_report.pk})
    first, second = run(task, now), run(task, now)
    assert first.data["path"] != second.data["path"]
    assert (media_root / first.data["path"]).exists() and (
        media_root / second.data["path"]
    ).exists()


def test_report_deleted_after_scheduling_fails_without_retry(reporter, user_report, now):
    task = schedule(reporter, "generate_report", {"report": user_report.pk})
    user_report.delete()
    task_cls = registry.get_task_type("reports", "generate_report")
    context = TaskContext(
        task_id=task.pk,
        module_id="reports",
        task_type="generate_report",
        name=task.name,
        config=dict(task.config),
        scheduled_for=now,
    )

    result = task_cls().execute(context)

    assert not result.ok and result.retry is False
    assert "no longer exists" in result.message


def test_email_report_sends_text_and_html_with_csv_attachment(reporter, user_report, now):
    task = schedule(
        reporter,
        "email_report",
        {"report": user_report.pk, "recipients": "a@example.com; B@example.com, a@example.com"},
    )
    assert task.config["recipients"] == ["a@example.com", "B@example.com"]

    result = run(task, now)

    assert result.ok, result.message
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a@example.com", "B@example.com"]
    assert message.subject == "Report: User list"
    assert "User list" in message.body and "reporter@example.com" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html" and "<table" in html and "reporter@example.com" in html
    ((filename, content, attachment_type),) = message.attachments
    assert (filename, attachment_type) == ("user-list.csv", "text/csv")
    assert read_csv(content)[1][0] == reporter.username
    assert result.data["recipients"] == ["a@example.com", "B@example.com"]


def test_email_report_uses_the_configured_subject(reporter, user_report, now):
    task = schedule(
        reporter,
        "email_report",
        {"report": user_report.pk, "recipients": ["x@example.com"], "subject": "Monday numbers"},
    )
    assert run(task, now).ok
    assert mail.outbox[0].subject == "Monday numbers"


@pytest.mark.parametrize("recipients", ["not-an-address", "ok@example.com, broken@", ""])
def test_email_report_rejects_bad_recipients(reporter, user_report, recipients):
    with pytest.raises(ValidationError) as info:
        schedule(reporter, "email_report", {"report": user_report.pk, "recipients": recipients})
    assert "recipients" in info.value.message_dict
    assert not ScheduledTask.objects.exists()


def test_export_report_writes_the_configured_path_and_replaces_it(media_root, reporter, now):
    report = Report.objects.create(name="Tasks", source=ReportSource.SCHEDULED_TASKS)
    task = schedule(
        reporter,
        "export_report",
        {"report": report.pk, "path": "./exports//{date}/tasks.csv"},
        timezone="Pacific/Auckland",
    )
    assert task.config["path"] == "exports/{date}/tasks.csv"

    first = run(task, now)
    second = run(task, now)

    # 12:00 UTC on 1 June is already 2 June in Auckland.
    assert first.data["path"] == second.data["path"] == "exports/2026-06-02/tasks.csv"
    assert [p.name for p in (media_root / "exports/2026-06-02").iterdir()] == ["tasks.csv"]
    rows = read_csv((media_root / first.data["path"]).read_text(encoding="utf-8"))
    assert rows[1][0] == str(task.pk) and rows[1][3] == task.name


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../outside.csv",
        "exports/../../outside.csv",
        "exports/..",
        "~/x.csv",
        "C:/x.csv",
        "exports\\x.csv",
        "exports/",
        "exports/{when}.csv",
    ],
)
def test_export_report_rejects_unsafe_paths(reporter, user_report, path):
    with pytest.raises(ValidationError) as info:
        schedule(reporter, "export_report", {"report": user_report.pk, "path": path})
    assert "path" in info.value.message_dict


def test_unknown_report_is_a_field_error(reporter, db):
    with pytest.raises(ValidationError) as info:
        schedule(reporter, "generate_report", {"report": 999})
    assert "report" in info.value.message_dict


def test_run_summary_counts_runs_in_the_period(media_root, make_task, reporter, now):
    task = make_task("noop")
    for attempt, (status, days_ago) in enumerate(
        [("success", 1), ("success", 2), ("failed", 3), ("success", 30)], start=1
    ):
        TaskExecutionLog.objects.create(
            task=task,
            run_id=str(attempt),
            attempt=attempt,
            scheduled_for=now,
            status=status,
            started_at=now - dt.timedelta(days=days_ago),
        )
    report = Report.objects.create(name="Runs", source=ReportSource.RUN_SUMMARY, period_days=7)
    result = run(schedule(reporter, "generate_report", {"report": report.pk}), now)

    rows = read_csv((media_root / result.data["path"]).read_text(encoding="utf-8"))
    assert [r[:4] for r in rows[1:]] == [
        ["testmod", "noop", "failed", "1"],
        ["testmod", "noop", "success", "2"],
    ]


def test_download_view_needs_the_reports_permission(client, make_user, user_report):
    url = reverse("reports:download", args=[user_report.pk])
    client.force_login(make_user("scheduler_app.SA_SCHEDULER_VIEW"))
    assert client.get(url).status_code == 403

    client.force_login(make_user(*REPORTS_USER_PERMS))
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("username,email")


def test_seed_demo_is_idempotent(db, capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    reports_users = get_user_model().objects.filter(username__in=[u.username for u in demo.USERS])
    report_tasks = ScheduledTask.objects.filter(
        module_id="reports"
    )  # seed_demo seeds CRM and Todo too
    counts = (reports_users.count(), Report.objects.count(), report_tasks.count())
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert counts == (len(demo.USERS), len(demo.REPORTS), len(demo.TASKS))
    assert (reports_users.count(), Report.objects.count(), report_tasks.count()) == counts
    assert "new scheduled tasks: 4" in first and "new scheduled tasks: 0" in second
    for spec in demo.USERS:
        assert f"{spec.username}" in second and f"password: {spec.password}" in second
        user = get_user_model().objects.get(username=spec.username)
        assert user.is_staff and user.check_password(spec.password)


def test_seed_demo_roles_and_a_task_due_now(db):
    users, _reports, _tasks = demo.seed()
    assert users["admin"].is_superuser
    assert policy.is_scheduler_admin(users["scheduler_admin"])
    assert policy.can_schedule(users["reports_user"], "reports", "email_report")
    assert policy.is_module_admin(users["reports_admin"], "reports")
    assert not policy.can_schedule(users["viewer"], "reports")
    assert policy.viewable_queryset(users["viewer"]).count() == len(demo.TASKS)

    from django.utils import timezone

    due = ScheduledTask.objects.due(timezone.now())
    assert {t.name for t in due} == {t.name for t in demo.TASKS if t.due_now}
