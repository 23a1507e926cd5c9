"""The engine's slot arithmetic: a schedule shared by many claimed rows is built once,
and what it gives is always the schedule the row's own columns describe."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from scheduler_app.engine import timing
from scheduler_app.schedules import COLUMNS, Schedule

UTC = dt.UTC

rows = st.fixed_dictionaries(
    {
        "schedule_type": st.sampled_from(
            ["cron", "recurring", "one_time", "event", "conditional", "", None]
        ),
        "cron_expression": st.sampled_from(["*/5 * * * *", "0 9 * * 1-5", "", None]),
        "run_at": st.none()
        | st.datetimes(
            min_value=dt.datetime(2000, 1, 1),
            max_value=dt.datetime(2100, 1, 1),
            timezones=st.just(UTC),
        ),
        "interval_every": st.none() | st.integers(1, 1000),
        "interval_unit": st.sampled_from(["minutes", "hours", "days", "", None]),
        "event_name": st.sampled_from(["report.ready", "", None]),
        "timezone": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "", None]),
    },
    optional={"id": st.integers(1, 10**9), "config": st.just({"unhashable": []})},
)


@given(row=rows)
def test_the_schedule_of_a_row_is_the_one_its_columns_describe(row):
    assert timing.schedule_of(row) == Schedule.from_columns(row)
    assert timing.schedule_of(dict(row)) == Schedule.from_columns(row)  # again, from the cache


@given(row=rows, missing=st.sampled_from(COLUMNS))
def test_a_row_without_a_schedule_column_reads_it_as_empty(row, missing):
    row.pop(missing)
    assert timing.schedule_of(row) == Schedule.from_columns(row)


def test_rows_with_the_same_schedule_share_one_value_object():
    row = dict.fromkeys(COLUMNS) | {
        "schedule_type": "cron",
        "cron_expression": "*/5 * * * *",
        "timezone": "UTC",
    }
    assert timing.schedule_of(row) is timing.schedule_of(dict(row, id=2))


def test_an_unhashable_column_value_still_gives_its_schedule():
    row = dict.fromkeys(COLUMNS) | {"schedule_type": "cron", "cron_expression": []}
    assert timing.schedule_of(row) == Schedule.from_columns(row)
