"""Property: any import document gives per-entry errors or imports valid tasks, never a traceback.

Documents are arbitrary JSON values, or valid exports whose entries had keys
dropped, replaced by arbitrary JSON or added. The importer must return a
report or raise ValidationError (and then save nothing); the command must
exit with a CommandError of readable lines, or print its report.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.models import BlackoutCalendar, ScheduledTask
from scheduler_app.services import transfer
from tests.test_transfer_schema import document, entry

TASK_KEYS = sorted(entry())
CALENDAR = {
    "name": "Holidays",
    "description": "",
    "timezone": "Europe/Berlin",
    "periods": [{"label": "Xmas", "start_date": "2026-12-25", "end_date": "2026-12-26"}],
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "0 2 * * *", "UTC", "minutes", "2026-12-24T18:00:00+01:00", "Holidays"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw, base: dict, keys: list[str]) -> dict:
    """``base`` with a few keys dropped, set to arbitrary JSON, or added."""
    value = dict(base)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        key = draw(st.sampled_from(keys) | st.text(max_size=10))
        action = draw(st.sampled_from(["drop", "set", "set"]))
        if action == "drop":
            value.pop(key, None)
        else:
            value[key] = draw(json_values)
    return value


@st.composite
def documents(draw) -> object:
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        return draw(json_values)
    tasks = draw(
        st.lists(
            mutated(entry(name=draw(st.sampled_from(["A", "B", "C"]))), TASK_KEYS) | json_values,
            max_size=4,
        )
    )
    calendars = draw(st.lists(mutated(CALENDAR, sorted(CALENDAR)), max_size=2))
    data = document(*tasks, calendars=calendars)
    if draw(st.booleans()):
        data = draw(mutated(data, sorted(data)))
    return data


def counts() -> tuple[int, int]:
    return ScheduledTask.objects.count(), BlackoutCalendar.objects.count()


@pytest.mark.django_db
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=documents(), dry_run=st.booleans(), unknown=st.booleans())
def test_the_importer_returns_a_report_or_per_entry_errors_and_nothing_else(data, dry_run, unknown):
    before = counts()
    try:
        report = transfer.import_schedules(
            data, user=None, dry_run=dry_run, allow_unknown_keys=unknown
        )
    except ValidationError as exc:
        assert exc.messages and all(isinstance(m, str) and m for m in exc.messages)
        assert counts() == before  # all or nothing
    else:
        assert report.text()
        if dry_run:
            assert counts() == before


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=documents())
def test_the_command_exits_with_readable_lines_or_prints_its_report(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("import") / "file.json"
    path.write_text(json.dumps(data))
    before = counts()
    out = StringIO()
    try:
        call_command("scheduler_import", str(path), "--dry-run", stdout=out)
    except CommandError as exc:
        lines = str(exc).splitlines()
        assert lines and "Traceback" not in str(exc)
        assert all(len(line) < 1000 for line in lines)
    else:
        assert "Dry run: nothing was saved." in out.getvalue()
    assert counts() == before
