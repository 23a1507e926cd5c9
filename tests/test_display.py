"""The one relative-time formatter (admin, template tags and scheduler_list share it)."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler_app.presentation.display import relative

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (dt.timedelta(seconds=59), "now"),
        (dt.timedelta(seconds=-59), "now"),
        (dt.timedelta(minutes=5), "in 5\xa0minutes"),
        (dt.timedelta(minutes=-5), "5\xa0minutes ago"),
        (dt.timedelta(hours=3, minutes=10), "in 3\xa0hours"),
    ],
)
def test_relative_reads_like_a_person(offset, text):
    assert relative(NOW + offset, NOW) == text


def test_no_time_is_blank():
    assert relative(None, NOW) == ""


def test_the_old_module_name_still_imports_with_a_deprecation_warning():
    import importlib
    import sys

    from scheduler_app.presentation import display

    sys.modules.pop("scheduler_app.display", None)
    with pytest.warns(DeprecationWarning, match="presentation.display"):
        old = importlib.import_module("scheduler_app.display")
    assert old.format_when is display.format_when
    assert old.badge is display.badge
