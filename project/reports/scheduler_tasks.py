"""The schedulable tasks of the reports module (autodiscovered by scheduler_app)."""

from __future__ import annotations

import abc
import datetime as dt
import smtplib
import time
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from project.reports import sources
from project.reports.forms import (
    EmailReportForm,
    ExportReportForm,
    GenerateReportForm,
    clean_storage_path,
)
from project.reports.models import Report
from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register
from scheduler_app.context import TaskContext

EMAIL_PREVIEW_ROWS = 20


class ReportTask(SchedulableTask):
    """Shared by the report task types: finds the report and builds its table."""

    def load_report(self, context: TaskContext) -> Report | None:
        value = context.config.get("report")
        if isinstance(value, Report):
            return value
        return Report.objects.filter(pk=value).first() if value is not None else None

    def run_time(self, context: TaskContext) -> dt.datetime:
        return context.scheduled_for or timezone.now()

    def csv_of(self, table: sources.Table, context: TaskContext) -> str:
        """The table as CSV, reporting each row written as the run's progress."""
        # The demo's REPORTS_ROW_PAUSE stands for a slow source, so live progress can be seen.
        pause = float(getattr(settings, "REPORTS_ROW_PAUSE", 0) or 0)

        def on_row(done: int, total: int) -> None:
            if pause:
                time.sleep(pause)
            context.progress(done, total, f"Writing row {done} of {total}")

        return table.to_csv(on_row)

    def execute(self, context: TaskContext) -> TaskResult:
        report = self.load_report(context)
        if report is None:
            return TaskResult.failure("The report of this task no longer exists.", retry=False)
        context.progress(0, None, f"Querying “{report.name}”")
        return self.deliver(report, sources.build(report, self.run_time(context)), context)

    @abc.abstractmethod
    def deliver(self, report: Report, table: sources.Table, context: TaskContext) -> TaskResult:
        """Store or send the built table."""


def _file_stem(report: Report) -> str:
    return slugify(report.name) or f"report-{report.pk}"


class GenerateReport(ReportTask):
    name = "Generate report"
    description = "Write the report as CSV to the file storage."
    config_form = GenerateReportForm

    def deliver(self, report: Report, table: sources.Table, context: TaskContext) -> TaskResult:
        stem = _file_stem(report)
        stamp = table.generated_at.astimezone(dt.UTC).strftime("%Y%m%d-%H%M%S")
        path = default_storage.save(
            f"reports/{stem}/{stem}-{stamp}.csv",
            ContentFile(self.csv_of(table, context).encode("utf-8")),
        )
        return TaskResult.success(
            f"Wrote {len(table.rows)} rows to {path}.",
            data={"report": report.pk, "path": path, "rows": len(table.rows)},
        )


class EmailReport(ReportTask):
    name = "E-mail report"
    description = "Send the report to a list of addresses, with the CSV attached."
    config_form = EmailReportForm

    def deliver(self, report: Report, table: sources.Table, context: TaskContext) -> TaskResult:
        recipients = list(context.config.get("recipients") or [])
        if not recipients:
            return TaskResult.failure("The task has no recipients.", retry=False)
        subject = context.config.get("subject") or f"Report: {report.name}"
        values = {
            "report": report,
            "table": table,
            "preview": table.rows[:EMAIL_PREVIEW_ROWS],
            "more_rows": max(0, len(table.rows) - EMAIL_PREVIEW_ROWS),
            "task_name": context.name,
        }
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("reports/email/report.txt", values),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        )
        message.attach_alternative(
            render_to_string("reports/email/report.html", values), "text/html"
        )
        filename = f"{_file_stem(report)}.csv"
        message.attach(filename, self.csv_of(table, context), "text/csv")
        context.progress(
            len(table.rows), len(table.rows), f"Sending to {len(recipients)} recipient(s)"
        )
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            return TaskResult.failure(f"Sending the e-mail failed: {exc}")
        return TaskResult.success(
            f"Sent {len(table.rows)} rows to {len(recipients)} recipient(s).",
            data={
                "report": report.pk,
                "recipients": recipients,
                "attachment": filename,
                "rows": len(table.rows),
            },
        )


class ExportReport(ReportTask):
    name = "Export report"
    description = "Write the report as CSV to a fixed storage path, replacing the previous file."
    config_form = ExportReportForm

    def deliver(self, report: Report, table: sources.Table, context: TaskContext) -> TaskResult:
        local_date = self.run_time(context).astimezone(ZoneInfo(context.timezone or "UTC")).date()
        # The form checked the path already; the check is repeated after {date} is filled in.
        path = clean_storage_path(
            str(context.config["path"]).replace("{date}", local_date.isoformat())
        )
        if default_storage.exists(path):
            default_storage.delete(path)
        saved = default_storage.save(path, ContentFile(self.csv_of(table, context).encode("utf-8")))
        return TaskResult.success(
            f"Exported {len(table.rows)} rows to {saved}.",
            data={"report": report.pk, "path": saved, "rows": len(table.rows)},
        )


@register
class ReportsProvider(TaskProvider):
    module_id = "reports"
    name = "Reports"
    base_permission = "SA_REPORTS"
    page_url_name = "reports:schedules"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {
        "generate_report": GenerateReport,
        "email_report": EmailReport,
        "export_report": ExportReport,
    }
