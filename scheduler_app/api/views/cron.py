"""cron/validate/: is this cron expression valid, what does it say, when does it run next."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import schedules, services
from scheduler_app.api import errors
from scheduler_app.api import serializers as api
from scheduler_app.api.views.base import BaseApiView, documented

#: The services name the expression "cron"; this endpoint calls it "expression".
RENAME = {"cron": "expression", "schedule_type": "expression"}


class CronValidateView(BaseApiView):
    @documented(request=api.CronValidateSerializer, responses=api.CronResultSerializer)
    def post(self, request: Request) -> Response:
        """Validate a cron expression in a time zone; its description and next runs with DST notes."""
        serializer = api.CronValidateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        now = timezone.now()
        try:
            schedule = services.build_schedule(
                schedules.CRON, cron=data["expression"], timezone=data["timezone"], now=now
            )
        except ValidationError as exc:
            return errors.invalid(errors.field_errors(exc, RENAME, errors.request_inputs(request)))
        runs = schedules.planned_runs(schedule, now, data["count"])
        return Response(
            {
                "valid": True,
                "expression": schedule.cron,
                "timezone": schedule.timezone,
                "description": schedule.describe(),
                "next_runs": api.planned_rows(runs),
            }
        )
