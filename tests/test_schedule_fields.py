"""One declaration of the schedule's fields (schedules.fields), and the places that derive from it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import scheduler_app
from scheduler_app import schedules
from scheduler_app.admin.forms import ADMIN_EDITABLE, SERVICE_ERROR_FIELDS
from scheduler_app.api.serializers import ScheduleFields, TaskSerializer
from scheduler_app.forms import ERROR_FIELD_ALIASES, ScheduleSpecForm
from scheduler_app.models import ScheduledTask, ScheduleType
from scheduler_app.schedules import Schedule
from scheduler_app.services import EDITABLE_FIELDS, audit, transfer, transfer_schema
from scheduler_app.services.transfer_export import schedule_entry

NOW = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


def test_every_column_is_a_field_of_the_task_model():
    names = {f.name for f in ScheduledTask._meta.get_fields()}
    assert set(schedules.COLUMNS) <= names


def test_every_attribute_is_a_field_of_the_schedule_value():
    assert [f.attribute for f in schedules.FIELDS] == list(Schedule.__dataclass_fields__)


def test_the_places_that_keep_a_schedule_name_the_same_fields():
    assert set(schedules.COLUMNS) <= set(ADMIN_EDITABLE)
    assert set(schedules.COLUMNS) <= set(audit.TRACKED_FIELDS)
    assert set(schedules.ARGUMENTS) <= set(EDITABLE_FIELDS)
    assert set(schedules.ARGUMENTS) <= set(transfer.FIELDS)
    assert set(schedules.ARGUMENTS) <= set(transfer_schema.TASK_SCHEMA)
    assert set(schedules.ARGUMENTS) == set(ScheduleFields().fields)
    assert set(schedules.INPUTS) <= set(TaskSerializer.Meta.fields)
    assert set(schedules.INPUTS) <= set(ScheduleSpecForm.base_fields)


def test_errors_on_an_argument_land_on_the_field_of_each_form():
    assert SERVICE_ERROR_FIELDS["interval"] == "interval_every"
    assert SERVICE_ERROR_FIELDS["cron"] == "cron_expression"
    assert ERROR_FIELD_ALIASES["interval"] == "interval_every"
    assert ERROR_FIELD_ALIASES["event_name"] == "event"


def test_each_type_reads_its_own_columns():
    assert schedules.columns_for(ScheduleType.CRON) == ("cron_expression",)
    assert schedules.columns_for(ScheduleType.RECURRING) == (
        "run_at",
        "interval_every",
        "interval_unit",
    )
    assert schedules.columns_for(ScheduleType.EVENT) == ("event_name",)


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule("cron", cron="0 6 * * 1-5", timezone="Europe/Berlin"),
        Schedule("recurring", run_at=NOW, interval_every=15, interval_unit="minutes"),
        Schedule("one_time", run_at=NOW + dt.timedelta(days=1)),
        Schedule("event", event="invoice.paid"),
    ],
)
def test_a_schedule_survives_columns_arguments_and_inputs(schedule):
    assert Schedule.from_columns(schedule.columns()) == schedule
    arguments = schedule.arguments()
    assert Schedule.from_arguments(arguments.pop("schedule_type"), **arguments) == schedule
    inputs = {f.input: getattr(schedule, f.attribute) for f in schedules.FIELDS}
    assert Schedule.from_inputs(inputs) == schedule


def test_empty_inputs_take_the_defaults():
    raw = Schedule.from_inputs({"schedule_type": "cron", "cron": None, "timezone": ""})
    assert raw == Schedule("cron")


def test_the_interval_travels_as_one_argument_and_one_export_key():
    schedule = Schedule("recurring", run_at=NOW, interval_every=2, interval_unit="hours")
    assert schedule.arguments()["interval"] == (2, "hours")
    entry = schedule_entry(schedule)
    assert list(entry) == list(schedules.ARGUMENTS)
    assert entry["interval"] == [2, "hours"]
    assert entry["run_at"] == NOW.isoformat()


def test_only_an_event_schedule_is_untimed():
    assert [Schedule(t).is_timed for t in schedules.SCHEDULE_TYPES] == [
        t != "event" for t in schedules.SCHEDULE_TYPES
    ]


def test_the_form_script_reads_the_fields_from_the_page():
    layout = schedules.form_layout()
    assert layout["fields"] == list(schedules.INPUTS)
    assert layout["byType"]["recurring"] == ["run_at", "interval_every", "interval_unit"]
    assert set(layout["optional"]) == {i for shown in layout["byType"].values() for i in shown}
    script = (
        Path(scheduler_app.__file__).parent / "static/scheduler_app/schedule_form.js"
    ).read_text()
    assert "interval_every" not in script  # no field list of its own
