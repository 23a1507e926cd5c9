"""runs/{id}/: one run with its result, traceback and output, bounded and with secrets masked."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import conf, policy
from scheduler_app.api import masking
from scheduler_app.api import serializers as api
from scheduler_app.api.views.base import BaseApiView, documented
from scheduler_app.models import TaskExecutionLog

#: Characters of a traceback shown (the output is cut at SCHEDULER["OUTPUT_LIMIT"]).
MAX_TRACEBACK = 20000


def _cut(text: str, limit: int) -> tuple[str, bool]:
    return (text[:limit], True) if len(text) > limit else (text, False)


class RunDetailView(BaseApiView):
    @documented(responses=api.RunDetailSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """One run of a task you may see."""
        if not (pk.isdigit() and len(pk) <= 18):
            raise exceptions.NotFound(_("Not found."))
        log = (
            policy.viewable_logs(request.user, TaskExecutionLog.objects.select_related("task"))
            .filter(pk=int(pk))
            .first()
        )
        if log is None or not policy.can_view_logs(request.user, log.task):
            raise exceptions.NotFound(_("Not found."))
        secrets = masking.secret_values(log.task)
        output, truncated = _cut(log.output or "", max(0, int(conf.get().OUTPUT_LIMIT)))
        traceback, _cut_tb = _cut(log.traceback or "", MAX_TRACEBACK)
        data = api.RunDetailSerializer(log).data
        data.update(
            {
                "error_message": masking.scrub(log.error_message, secrets),
                "result": masking.scrub(log.result, secrets),
                "traceback": masking.scrub(traceback, secrets),
                "output": masking.scrub(output, secrets),
                "output_truncated": truncated,
            }
        )
        return Response(data)
