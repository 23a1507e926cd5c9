"""Import documents are checked against a schema, bounded, and refused whole with per-entry errors."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from scheduler_app.models import BlackoutCalendar, ScheduledTask
from scheduler_app.services import transfer, transfer_file

PERMS = ("scheduler_app.SA_SCHEDULER", "scheduler_app.SA_TESTMOD")


def entry(**overrides):
    base = {
        "module": "testmod",
        "task_type": "record",
        "name": "Nightly",
        "config": {},
        "schedule_type": "cron",
        "cron": "0 2 * * *",
        "run_at": None,
        "interval": None,
        "event": "",
        "timezone": "UTC",
        "priority": 5,
        "max_retries": 3,
        "timeout": 60,
        "allow_overlap": False,
        "misfire_policy": "run_once",
        "misfire_grace": None,
        "tags": ["nightly"],
        "enabled": True,
        "paused": False,
        "calendars": [],
        "owner": None,
    }
    base.update(overrides)
    return base


def document(*tasks, calendars=()):
    return {
        "format": transfer.FORMAT,
        "version": transfer.VERSION,
        "exported_at": "2026-01-01T00:00:00+00:00",
        "calendars": list(calendars),
        "tasks": list(tasks),
    }


def refusal(data, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as info:
        transfer.import_schedules(data, user=kwargs.pop("user", None), **kwargs)
    return info.value.messages


def without(key):
    e = entry()
    del e[key]
    return e


BAD_ENTRIES = {
    "missing name": (without("name"), "tasks[1] testmod.record “?”: name: this field is required."),
    "missing module": (without("module"), "module: this field is required."),
    "blank name": (entry(name="  "), "name: must not be empty."),
    "interval 5": (
        entry(interval=5),
        'interval: give [every, unit], e.g. [15, "minutes"], or null.',
    ),
    "interval of three": (entry(interval=[1, "minutes", 3]), "interval: give [every, unit]"),
    "interval of a year unit": (entry(interval=[1, "years"]), "interval: choose one of"),
    "interval of zero": (entry(interval=[0, "minutes"]), "interval: give a number from 1"),
    "tags 5": (entry(tags=5), "tags: give a list of text."),
    "tags [5]": (entry(tags=[5]), "tags: give a list of text."),
    "a thousand tags": (entry(tags=[f"t{i}" for i in range(1000)]), "tags: give at most 50 items."),
    "config [1]": (entry(config=[1]), "config: give an object"),
    "config 'x'": (entry(config="x"), "config: give an object"),
    "calendars 5": (entry(calendars=5), "calendars: give a list of text."),
    "calendars [5]": (entry(calendars=[5]), "calendars: give a list of text."),
    "priority '5'": (entry(priority="5"), "priority: give a whole number."),
    "priority true": (entry(priority=True), "priority: give a whole number."),
    "priority 1e300": (entry(priority=1e300), "priority: give a whole number."),
    "priority 10**30": (entry(priority=10**30), "priority: give a number from 1 to 10."),
    "max_retries -1": (entry(max_retries=-1), "max_retries: give a number from 0 to 100."),
    "timeout 0": (entry(timeout=0), "timeout: give a number from 1 to 604800."),
    "misfire_grace huge": (entry(misfire_grace=2**70), "misfire_grace: give a number from 0"),
    "enabled 'yes'": (entry(enabled="yes"), "enabled: give true or false."),
    "paused 1": (entry(paused=1), "paused: give true or false."),
    "allow_overlap null": (entry(allow_overlap=None), "allow_overlap: give true or false."),
    "schedule_type 5": (entry(schedule_type=5), "schedule_type: choose one of"),
    "misfire_policy odd": (entry(misfire_policy="sometimes"), "misfire_policy: choose one of"),
    "cron 5": (entry(cron=5), "cron: give text or null."),
    "cron of 100,000 characters": (entry(cron="1" * 100_000), "cron: keep it under 200"),
    "timezone []": (entry(timezone=[]), "timezone: give text or null."),
    "event {}": (entry(event={}), "event: give text or null."),
    "run_at 5": (entry(run_at=5), "run_at: give an ISO date and time"),
    "run_at 30 February": (entry(run_at="2026-02-30T10:00:00+00:00"), "run_at: give an ISO"),
    "run_at year 9999": (entry(run_at="9999-12-31T23:59:00-05:00"), "run_at: give a date from"),
    "owner 5": (entry(owner=5), "owner: give text or null."),
    "unknown keys": (entry(is_system=True, status="running"), "unknown keys is_system, status."),
    "not an object": ([1, 2], "tasks[1]: not an object."),
    "null": (None, "tasks[1]: not an object."),
}


@pytest.mark.django_db
@pytest.mark.parametrize("bad, message", list(BAD_ENTRIES.values()), ids=list(BAD_ENTRIES))
def test_a_bad_entry_is_refused_naming_its_index_and_field_and_nothing_is_saved(bad, message):
    good = entry(name="Good one")
    messages = refusal(document(good, bad))
    assert len(messages) == 1 and messages[0].startswith("tasks[1]"), messages
    assert message in messages[0], messages
    assert not ScheduledTask.objects.exists()


@pytest.mark.django_db
def test_every_problem_of_every_entry_is_listed_at_once():
    messages = refusal(document(entry(interval=5, tags=5), without("name"), entry(config=[1])))
    assert [m.split(":")[0] for m in messages] == [
        "tasks[0] testmod.record “Nightly”",
        "tasks[0] testmod.record “Nightly”",
        "tasks[1] testmod.record “?”",
        "tasks[2] testmod.record “Nightly”",
    ]


@pytest.mark.django_db
def test_many_problems_are_summarised():
    messages = refusal(document(*[entry(tags=5, name=f"t{i}") for i in range(80)]))
    assert len(messages) == 51 and messages[-1] == "… and 30 more problems."


@pytest.mark.django_db
def test_unknown_keys_are_refused_by_default_and_warned_about_on_request():
    data = document(entry(is_system=True, status="running"))
    data["signature"] = "x"
    messages = refusal(copy.deepcopy(data))
    assert "the document: unknown keys signature." in messages
    report = transfer.import_schedules(data, user=None, allow_unknown_keys=True)
    assert report.warnings == [
        "the document: unknown keys signature.",
        "tasks[0] testmod.record “Nightly”: ignored unknown keys is_system, status.",
    ]
    task = ScheduledTask.objects.get()
    assert task.is_system is False and task.status == "pending"
    assert report.text().startswith("! the document: unknown keys signature.")


@pytest.mark.django_db
def test_bad_calendar_entries_are_refused_with_their_index():
    calendars = [
        {"name": "Ok", "periods": []},
        {"name": 5},
        {"name": "Periods", "periods": [{"start_date": "2026-13-01", "end_date": "2026-01-02"}]},
        {"name": "Many", "periods": "x"},
        {"name": "x" * 500},
        {"name": "Odd", "timezone": 5, "colour": "red"},
    ]
    messages = refusal(document(calendars=calendars))
    assert messages == [
        "calendars[1]: name: give text.",
        "calendars[2] “Periods”: periods: period 0: start_date: give a date, e.g. 2026-12-24.",
        "calendars[3] “Many”: periods: give a list of periods.",
        f"calendars[4] “{'x' * 79}…”: name: keep it under 120 characters.",
        "calendars[5] “Odd”: unknown keys colour.",
        "calendars[5] “Odd”: timezone: give text or null.",
    ]
    assert not BlackoutCalendar.objects.exists()


@pytest.mark.django_db
def test_a_refused_calendar_period_is_reported_by_index_and_nothing_is_saved():
    calendars = [
        {"name": "Reversed", "periods": [{"start_date": "2026-05-03", "end_date": "2026-05-01"}]}
    ]
    messages = refusal(document(entry(calendars=["Reversed"]), calendars=calendars))
    assert messages[0].startswith("calendars[0] “Reversed”: ") and "ends before" in messages[0]
    assert not BlackoutCalendar.objects.exists() and not ScheduledTask.objects.exists()


@pytest.mark.django_db
def test_unknown_owners_are_refused_and_the_importer_never_silently_becomes_owner(make_user):
    messages = refusal(document(entry(owner="ghost")))
    assert messages == [
        "tasks[0] testmod.record “Nightly”: owner: no user “ghost” here; create the user, "
        "or remove the owner to own it yourself."
    ]
    carol = make_user(username="carol")
    importer = make_user(*PERMS)
    messages = refusal(document(entry(owner="carol")), user=importer)
    assert "only a module admin gives a task to another user" in messages[0]
    assert refusal(document(entry(owner="ghost")), user=importer) == messages
    assert not ScheduledTask.objects.exists()
    transfer.import_schedules(document(entry(owner=importer.username)), user=importer)
    assert ScheduledTask.objects.get().owner == importer
    transfer.import_schedules(document(entry(name="Carol's", owner="carol")), user=None)
    assert ScheduledTask.objects.get(name="Carol's").owner == carol


@pytest.mark.django_db
def test_an_update_names_another_owner_with_a_warning_and_keeps_the_owner(make_user, make_task):
    carol = make_user(username="carol")
    make_task(name="Nightly", cron="0 2 * * *", timezone="UTC", owner=carol)
    report = transfer.import_schedules(document(entry(owner="ghost")), user=None, dry_run=True)
    assert report.warnings == [
        "tasks[0] testmod.record “Nightly”: owner: “ghost” is not applied; an import never "
        "changes the owner."
    ]


@pytest.mark.django_db
def test_the_number_of_entries_is_bounded_by_a_setting(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "IMPORT_MAX_ENTRIES": 3}
    data = document(*[entry(name=f"t{i}") for i in range(3)], calendars=[{"name": "c"}])
    assert refusal(data) == ["The export has 4 entries; an import takes at most 3."]


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 32 levels"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested deeper than 32 levels"),
        (b'"[[[[' + b"[" * 1000 + b'"', None),  # brackets inside a string do not count
        (b'"\\"' + b"[" * 1000 + b'"', None),  # nor after an escaped quote
        (b"{not json", "is not JSON"),
        (b'{"a": NaN}', "is not JSON"),
        (b'{"a": 1e999}', "is not JSON"),
        (b'{"a": ' + b"1" * 5000 + b"}", "is not JSON"),
        ("{}".encode("utf-16"), "not UTF-8"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_reading_is_bounded_in_depth_and_refuses_what_is_not_json(raw, message):
    if message is None:
        assert isinstance(transfer_file.read(raw), str)
        return
    with pytest.raises(ValidationError, match=message):
        transfer_file.read(raw)


def test_the_file_size_is_bounded_by_a_setting(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "IMPORT_MAX_BYTES": 100}
    with pytest.raises(ValidationError, match="101 bytes; an import reads at most 100"):
        transfer_file.read(b" " * 101)
    assert transfer_file.read(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


@pytest.mark.django_db
def test_the_command_refuses_a_file_over_the_bound_without_reading_all_of_it(settings, tmp_path):
    settings.SCHEDULER = {**settings.SCHEDULER, "IMPORT_MAX_BYTES": 1000}
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 5_000_000)
    with pytest.raises(CommandError, match="1001 bytes; an import reads at most 1000"):
        call_command("scheduler_import", str(path), "--dry-run")


@pytest.mark.django_db
def test_the_command_lists_per_entry_errors_one_a_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document(entry(interval=5), without("name"))))
    with pytest.raises(CommandError) as info:
        call_command("scheduler_import", str(path), "--dry-run")
    assert str(info.value).splitlines() == [
        "Nothing was imported:",
        '  tasks[0] testmod.record “Nightly”: interval: give [every, unit], e.g. [15, "minutes"], '
        "or null.",
        "  tasks[1] testmod.record “?”: name: this field is required.",
    ]


@pytest.mark.django_db
def test_the_command_imports_unknown_keys_with_a_flag_and_prints_the_warnings(tmp_path):
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(document(entry(colour="red"))))
    with pytest.raises(CommandError, match="unknown keys colour"):
        call_command("scheduler_import", str(path))
    out = StringIO()
    call_command("scheduler_import", str(path), "--ignore-unknown-keys", stdout=out)
    assert "! tasks[0] testmod.record “Nightly”: ignored unknown keys colour." in out.getvalue()
    assert ScheduledTask.objects.filter(name="Nightly").exists()


@pytest.mark.django_db
def test_a_dry_run_of_the_largest_document_allowed_is_bounded(settings, tmp_path):
    """The entry bound keeps a dry run short: a document one entry over it is refused unread."""
    settings.SCHEDULER = {**settings.SCHEDULER, "IMPORT_MAX_ENTRIES": 200}
    tasks = [entry(name=f"Task {i}") for i in range(200)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(document(*tasks)))
    out = StringIO()
    call_command("scheduler_import", str(path), "--dry-run", stdout=out)
    assert "Tasks: 200 would be created" in out.getvalue()
    assert not ScheduledTask.objects.exists()
    path.write_text(json.dumps(document(*tasks, entry(name="one more"))))
    with pytest.raises(CommandError, match="201 entries; an import takes at most 200"):
        call_command("scheduler_import", str(path), "--dry-run")
