"""W022: tasks saved with a cron expression that is no longer accepted are named, when asked."""

from __future__ import annotations

from django.core import checks

from scheduler_app.checks.stored_cron import check_stored_crons
from scheduler_app.models import ScheduledTask


def test_stored_expressions_refused_today_are_named_with_a_hint(make_task):
    make_task(cron="0 6 * * 1-5")
    old = [make_task(cron="0 3 * * *") for _ in range(3)]
    ScheduledTask.objects.filter(pk__in=[old[0].pk, old[1].pk]).update(
        cron_expression="0 22-2 * * *"
    )
    ScheduledTask.objects.filter(pk=old[2].pk).update(cron_expression="0 0 L * *")
    assert check_stored_crons(databases=None) == []
    (warning,) = check_stored_crons(databases=["default"])
    assert warning.id == "scheduler_app.W022" and warning.level == checks.WARNING
    assert warning.msg.startswith("3 task(s) have a cron expression that is no longer accepted")
    assert "“0 0 L * *”" in warning.msg and "“0 22-2 * * *”" in warning.msg
    assert "22-23,0-2" in warning.hint


def test_nothing_to_say_when_every_stored_expression_is_accepted(make_task):
    make_task(cron="*/15 * * * *")
    make_task(cron="@daily")
    assert check_stored_crons(databases=["default"]) == []


def test_long_stored_expressions_are_quoted_short(make_task):
    task = make_task(cron="0 3 * * *")
    ScheduledTask.objects.filter(pk=task.pk).update(
        cron_expression="1-0," + "5," * 90 + "5 * * * *"
    )
    (warning,) = check_stored_crons(databases=["default"])
    assert len(warning.msg) < 200
