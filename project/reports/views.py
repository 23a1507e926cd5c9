"""Download a report as CSV, for users of the reports module."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from project.reports import sources
from project.reports.models import Report
from scheduler_app import policy

MODULE_ID = "reports"


def can_read_reports(user: Any) -> bool:
    return policy.is_module_user(user, MODULE_ID) or policy.is_module_admin(user, MODULE_ID)


@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_read_reports(request.user):
        raise PermissionDenied("You may not read reports.")
    report = get_object_or_404(Report, pk=pk)
    table = sources.build(report)
    filename = f"{slugify(report.name) or f'report-{report.pk}'}.csv"
    response = HttpResponse(table.to_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
