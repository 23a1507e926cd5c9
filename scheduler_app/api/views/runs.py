"""runs/{id}/: one run with its result, traceback and output, bounded and with secrets masked."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import policy
from scheduler_app.api import masking
from scheduler_app.api import run_serializers as runs_api
from scheduler_app.api.views.base import BaseApiView, documented
from scheduler_app.models import TaskExecutionLog


class RunDetailView(BaseApiView):
    @documented(responses=runs_api.RunDetailSerializer)
    def get(self, request: Request, pk: str) -> Response:
        """One run of a task you may see."""
        if not (pk.isascii() and pk.isdigit() and len(pk) <= 18):
            raise exceptions.NotFound(_("Not found."))
        log = (
            policy.viewable_logs(request.user, TaskExecutionLog.objects.select_related("task"))
            .filter(pk=int(pk))
            .first()
        )
        if log is None or not policy.can_view_logs(request.user, log.task):
            raise exceptions.NotFound(_("Not found."))
        context = {"secrets": masking.secret_values(log.task)}
        return Response(runs_api.RunDetailSerializer(log, context=context).data)
