"""The JSON endpoint behind the live preview of a scheduling form.

Every query parameter is checked with bounds: a malformed one gets a 400
with the usual body (``valid: false`` and ``errors`` by field), never a 500.
Calendars are looked up among those the user may see
(``policy.viewable_calendars``); one the user may not see is reported exactly
like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from scheduler_app import bounds, policy
from scheduler_app.forms import ScheduleSpecForm
from scheduler_app.presentation.display import describe_runs
from scheduler_app.services.calendars import calendar_notes

PREVIEW_COUNT = 5


_ID = re.compile(rf"[0-9]{{1,{bounds.MAX_ID_DIGITS}}}", re.ASCII)


def calendar_ids(request: HttpRequest) -> list[int]:
    """The ids of ``?calendars=1&calendars=2`` that the user may see; ValidationError otherwise."""
    values = [v.strip() for v in request.GET.getlist("calendars") if v.strip()]
    if len(values) > bounds.MAX_PREVIEW_CALENDARS:
        raise ValidationError(
            _("Name at most %(max)d calendars.") % {"max": bounds.MAX_PREVIEW_CALENDARS}
        )
    wrong = [v for v in values if not _ID.fullmatch(v)]
    if wrong:
        shown = wrong[0][:20] + ("…" if len(wrong[0]) > 20 else "")
        raise ValidationError(_("“%(value)s” is not a calendar id.") % {"value": shown})
    wanted = {int(v) for v in values}
    found = set(
        policy.viewable_calendars(request.user).filter(pk__in=wanted).values_list("pk", flat=True)
    )
    missing = sorted(wanted - found)
    if missing:
        raise ValidationError(
            _("No blackout calendar with the id %(ids)s.")
            % {"ids": ", ".join(str(pk) for pk in missing)}
        )
    return sorted(found)


def _invalid(errors: dict[str, list[str]]) -> JsonResponse:
    return JsonResponse(
        {"valid": False, "description": "", "runs": [], "errors": errors}, status=400
    )


@require_GET
@login_required
def schedule_preview(request: HttpRequest) -> JsonResponse:
    """Describe the schedule in the query string and list its next runs, or its field errors."""
    now = timezone.now()
    form = ScheduleSpecForm(request.GET, now=now)
    errors = {}
    try:
        chosen = calendar_ids(request)
    except ValidationError as exc:
        errors["calendars"] = [str(m) for m in exc.messages]
    if not form.is_valid() or form.schedule is None or errors:
        errors.update({k: [str(m) for m in v] for k, v in form.errors.items()})
        return _invalid(errors)
    schedule = form.schedule
    runs = describe_runs(schedule, now, count=PREVIEW_COUNT)
    # ?calendars=1&calendars=2: flag the runs those blackout calendars would skip.
    blackouts = calendar_notes(
        chosen, [dt.datetime.fromisoformat(r["at"]) for r in runs], schedule.timezone
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
