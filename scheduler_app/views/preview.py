"""The JSON endpoint behind the live preview of a scheduling form."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from scheduler_app import schedules, services
from scheduler_app.calendars import calendar_notes
from scheduler_app.forms import ScheduleSpecForm

PREVIEW_COUNT = 5


def describe_runs(schedule: schedules.Schedule, now=None) -> list[dict[str, str]]:
    """The next runs of ``schedule`` as JSON-ready rows, in the schedule's zone, with DST notes."""
    zone = schedule.zone
    runs = services.next_runs_with_notes(
        schedule.type,
        cron=schedule.cron,
        run_at=schedule.run_at,
        interval=(schedule.interval_every, schedule.interval_unit)
        if schedule.interval_every
        else None,
        event=schedule.event,
        timezone=schedule.timezone,
        count=PREVIEW_COUNT,
        after=now,
    )
    rows = []
    for run in runs:
        local = run.at.astimezone(zone)
        rows.append(
            {
                "at": run.at.isoformat(),
                "text": date_format(local, "D, Y-m-d H:i") + " " + (local.tzname() or ""),
                "dst": run.dst,
                "note": run.note,
            }
        )
    return rows


@require_GET
@login_required
def schedule_preview(request: HttpRequest) -> JsonResponse:
    """Describe the schedule in the query string and list its next runs, or its field errors."""
    now = timezone.now()
    form = ScheduleSpecForm(request.GET, now=now)
    if not form.is_valid() or form.schedule is None:
        return JsonResponse(
            {
                "valid": False,
                "description": "",
                "runs": [],
                "errors": {k: [str(m) for m in v] for k, v in form.errors.items()},
            }
        )
    schedule = form.schedule
    runs = describe_runs(schedule, now)
    # ?calendars=1&calendars=2: flag the runs those blackout calendars would skip.
    calendar_ids = [int(v) for v in request.GET.getlist("calendars") if v.isdigit()]
    blackouts = calendar_notes(
        calendar_ids, [dt.datetime.fromisoformat(r["at"]) for r in runs], schedule.timezone
    )
    for row, blackout in zip(runs, blackouts, strict=True):
        row["blackout"] = blackout or ""
    return JsonResponse(
        {
            "valid": True,
            "description": schedule.describe(),
            "timezone": schedule.timezone,
            "runs": runs,
            "errors": {},
        }
    )
