"""Export and import of schedules: round trip, dry-run diff, masked secrets, errors."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from scheduler_app import services, task_configs
from scheduler_app.models import BlackoutCalendar, ScheduledTask
from scheduler_app.services import calendars, transfer
from scheduler_app.services.calendars import Period

SECRET = "Authorization: Bearer top-secret"


def comparable(data: dict) -> list[dict]:
    return [dict(t.items()) for t in data["tasks"]]


@pytest.fixture
def source(make_task, make_user):
    owner = make_user(username="carol")
    holidays = calendars.create_calendar(
        user=None,
        name="Holidays",
        timezone="Europe/Berlin",
        periods=[
            Period(dt.date(2026, 12, 25), dt.date(2026, 12, 26), label="Christmas"),
            Period(dt.date(2026, 12, 31), dt.date(2026, 12, 31), end_time=dt.time(18), label="Eve"),
        ],
    )
    tasks = [
        make_task(
            name="Nightly",
            cron="0 2 * * *",
            timezone="Europe/Berlin",
            priority=3,
            tags=["nightly"],
            owner=owner,
            calendars=[holidays],
        ),
        make_task(
            "noop",
            name="Every 15 minutes",
            schedule_type="recurring",
            cron=None,
            interval=(15, "minutes"),
        ),
        make_task(
            "record_payload", name="On won", schedule_type="event", cron=None, event="crm.won"
        ),
        make_task(
            "request",
            module="http",
            name="Ping",
            cron="*/5 * * * *",
            config={"url": "https://example.com/ping", "secret_headers": SECRET},
        ),
    ]
    services.pause(tasks[1], user=None)
    return tasks


@pytest.mark.django_db
def test_export_masks_secrets_and_carries_the_calendars(source):
    data = transfer.export_schedules(user=None)
    assert json.loads(json.dumps(data)) == data
    ping = next(t for t in data["tasks"] if t["name"] == "Ping")
    assert ping["config"]["secret_headers"] == task_configs.SECRET_MASK
    assert "top-secret" not in json.dumps(data)
    assert [c["name"] for c in data["calendars"]] == ["Holidays"]
    assert len(data["calendars"][0]["periods"]) == 2


@pytest.mark.django_db
def test_round_trip_into_an_empty_environment(source):
    data = transfer.export_schedules(user=None)
    # The target does not know the secret: put it in the file, as the message says.
    for entry in data["tasks"]:
        if entry["name"] == "Ping":
            entry["config"]["secret_headers"] = SECRET
    ScheduledTask.objects.all().delete()
    BlackoutCalendar.objects.all().delete()

    report = transfer.import_schedules(data, user=None)
    assert report.count("create") == 5  # four tasks and a calendar
    again = transfer.export_schedules(user=None)
    assert comparable(again) == [
        {**t, "config": {**t["config"], "secret_headers": task_configs.SECRET_MASK}}
        if t["name"] == "Ping"
        else t
        for t in comparable(data)
    ]
    assert again["calendars"] == data["calendars"]
    assert ScheduledTask.objects.get(name="Ping").config["secret_headers"] == SECRET
    assert ScheduledTask.objects.get(name="Every 15 minutes").status == "paused"
    assert ScheduledTask.objects.get(name="Nightly").owner.username == "carol"
    # Importing the same file again changes nothing.
    assert transfer.import_schedules(again, user=None).count("unchanged") == 4


@pytest.mark.django_db
def test_a_new_task_with_a_masked_secret_is_refused_with_a_clear_message(source):
    data = transfer.export_schedules(user=None)
    ScheduledTask.objects.all().delete()
    with pytest.raises(ValidationError) as info:
        transfer.import_schedules(data, user=None)
    message = " ".join(info.value.messages)
    assert "http.request “Ping”" in message and "secret_headers" in message and "masked" in message
    assert not ScheduledTask.objects.exists()  # all or nothing


@pytest.mark.django_db
def test_dry_run_shows_the_diff_and_saves_nothing_and_the_import_keeps_secrets(source, tmp_path):
    data = transfer.export_schedules(user=None)
    nightly, _every, _event, ping = source
    services.update(nightly, user=None, cron="30 3 * * *", priority=7)
    entry = next(t for t in data["tasks"] if t["name"] == "Nightly")
    data["tasks"].append({**entry, "name": "Brand new"})

    out = StringIO()
    path = str(tmp_path / "export.json")
    with open(path, "w") as handle:
        json.dump(data, handle)
    call_command("scheduler_import", path, "--dry-run", stdout=out)
    text = out.getvalue()
    assert "~ update    task testmod.record “Nightly”: cron: '30 3 * * *' → '0 2 * * *'" in text
    assert "priority: 7 → 3" in text
    assert "+ create    task testmod.record “Brand new”" in text
    assert "= unchanged task http.request “Ping”" in text
    assert "Dry run: nothing was saved." in text
    nightly.refresh_from_db()
    assert nightly.cron_expression == "30 3 * * *"
    assert not ScheduledTask.objects.filter(name="Brand new").exists()

    call_command("scheduler_import", path, stdout=StringIO())
    nightly.refresh_from_db()
    assert (nightly.cron_expression, nightly.priority) == ("0 2 * * *", 3)
    assert ScheduledTask.objects.filter(name="Brand new").exists()
    ping.refresh_from_db()
    assert ping.config["secret_headers"] == SECRET
    assert nightly.audit_events.filter(action="edited").count() == 2


@pytest.mark.django_db
def test_commands_round_trip_through_a_file(source, tmp_path):
    path = tmp_path / "schedules.json"
    call_command(
        "scheduler_export",
        "--module",
        "testmod",
        "--output",
        str(path),
        stdout=StringIO(),
        stderr=StringIO(),
    )
    data = json.loads(path.read_text())
    assert {t["module"] for t in data["tasks"]} == {"testmod"} and len(data["tasks"]) == 3
    out = StringIO()
    call_command("scheduler_import", str(path), stdout=out)
    assert (
        "Tasks: 0 created, 0 updated, 3 unchanged. Calendars: 0 created, 1 kept" in out.getvalue()
    )


@pytest.mark.django_db
def test_bad_files_give_clear_errors(source, tmp_path, make_user):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("scheduler_import", str(bad))
    bad.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(CommandError, match="not a schedules export"):
        call_command("scheduler_import", str(bad))
    data = transfer.export_schedules(user=None)
    data["tasks"][-1]["module"] = "gone"
    data["tasks"][-1]["name"] = "Elsewhere"
    with pytest.raises(ValidationError, match="gone"):
        transfer.import_schedules(data, user=None)


@pytest.mark.django_db
def test_users_export_what_they_see_and_import_under_their_permissions(source, make_user):
    viewer = make_user()
    assert transfer.export_schedules(user=viewer)["tasks"] == []
    data = transfer.export_schedules(user=None)
    ScheduledTask.objects.filter(module_id="testmod").delete()
    data["tasks"] = [t for t in data["tasks"] if t["module"] == "testmod"]
    with pytest.raises(ValidationError, match="may not"):
        transfer.import_schedules(data, user=viewer)
    assert not ScheduledTask.objects.filter(module_id="testmod").exists()


@pytest.mark.django_db
def test_every_stored_text_at_its_column_length_round_trips(make_task):
    # What the database holds, an export writes and an import must take back: each
    # text at the longest its column allows.
    minutes = ",".join(str(m) for m in range(60))  # 170 characters
    hours = ",".join(str(h) for h in range(10))
    cron = f"{minutes} {hours} * * *"  # 196 characters
    assert 120 < len(cron) <= 200
    make_task(name="N" * 200, cron=cron)
    make_task("record_payload", name="E", schedule_type="event", cron=None, event="e" * 120)
    data = transfer.export_schedules(user=None)
    ScheduledTask.objects.all().delete()
    report = transfer.import_schedules(data, user=None)
    assert report.count("create") == 2
    assert ScheduledTask.objects.get(event_name="e" * 120).name == "E"
    assert ScheduledTask.objects.get(name="N" * 200).cron_expression == cron
