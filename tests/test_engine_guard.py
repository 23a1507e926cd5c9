"""A pass ends even when tasks keep becoming due again within it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from scheduler_app.engine.passes import PassOptions, run_pass


@pytest.mark.django_db(transaction=True)
def test_a_pass_with_a_clock_far_ahead_claims_a_not_ready_task_a_bounded_number_of_times(
    make_task, settings
):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "MISFIRE_RUN_ALL_CAP": 3,
        "RETRY_BACKOFF_BASE": 1,
        "RETRY_JITTER": 0,
    }
    task = make_task("not_yet", due=timezone.now() - dt.timedelta(seconds=1))

    # Each "not ready" answer moves next_run a second on, still before the injected clock.
    report = run_pass(PassOptions(now=timezone.now() + dt.timedelta(days=1)))

    assert 1 <= report.claimed <= 5
    assert task.logs.count() == report.claimed
