"""The execution history of a task page and its log detail page."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler_app import describing, services
from scheduler_app.models import AuditAction, ScheduledTask, TaskAuditEvent
from scheduler_app.policy import scrubbing
from scheduler_app.presentation import display

PER_PAGE = 20
PAGE_PARAM = "logs_page"
#: Columns of a history row; the large text columns are loaded only on the detail page.
ROW_FIELDS = (
    "pk",
    "task_id",
    "run_id",
    "scheduled_for",
    "attempt",
    "status",
    "started_at",
    "finished_at",
    "duration",
    "error_message",
    "host",
    "triggered_by",
)


#: Pages beyond this one are shown as this one (a database offset must stay a 64-bit integer).
MAX_PAGE = 100_000


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get(PAGE_PARAM, "1").strip()
    if not (value.isascii() and value.isdigit()):
        return 1
    if len(value) > len(str(MAX_PAGE)):
        return MAX_PAGE
    return min(MAX_PAGE, max(1, int(value)))


def history_page(
    request: HttpRequest, task: ScheduledTask, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """One page of the task's runs, newest first, in one query (no COUNT over the history)."""
    page = _page_number(request)
    start = (page - 1) * per_page
    logs = services.task_logs(task, user=request.user)
    rows = list(logs.only(*ROW_FIELDS)[start : start + per_page + 1])
    secrets = scrubbing.secret_values(task)
    for row in rows:
        masked(row, secrets)
    params = request.GET.copy()

    def link(number: int) -> str:
        params[PAGE_PARAM] = str(number)
        return "?" + params.urlencode()

    return {
        "rows": rows[:per_page],
        "page": page,
        "first_index": start + 1,
        "newer_url": link(page - 1) if page > 1 else "",
        "older_url": link(page + 1) if len(rows) > per_page else "",
    }


def masked(log: Any, secrets: list[str]) -> Any:
    """``log`` (not saved again) with the task's secrets masked in the texts it has loaded,
    as the live JSON and the API show them."""
    loaded = log.get_deferred_fields()
    for name in ("error_message", "traceback", "output", "progress_message", "result"):
        if name not in loaded:
            setattr(log, name, scrubbing.scrub(getattr(log, name), secrets))
    return log


def log_detail_context(request: HttpRequest, task: ScheduledTask, log_id: int) -> dict[str, Any]:
    """The context of a log's page: the run, its traceback, output and result."""
    log = services.task_logs(task, user=request.user).filter(pk=log_id).first()
    if log is None:
        raise Http404(_("No such run of this task."))
    masked(log, scrubbing.secret_values(task))
    result = (
        json.dumps(log.result, indent=2, ensure_ascii=False, default=str)
        if log.result is not None
        else ""
    )
    message, rows = described_result(task, log.result)
    return {
        "task": task,
        "log": log,
        "triggered": triggered_by(task, log),
        "result_message": message,
        "result_rows": display.described(rows) if rows else "",
        "result_json": result,
        "title": _("Run of “%(name)s” at %(when)s")
        % {"name": task.name, "when": display.format_when(log.started_at, task)},
    }


def triggered_by(task: ScheduledTask, log: Any) -> str:
    """What started the run, in words: its schedule, or "Run now" by whom and when."""
    if log.triggered_by == "scheduler":
        return _("Its schedule (a scheduler pass)")
    if log.triggered_by != "request":
        return log.triggered_by or "—"
    # The run-now request is in the audit trail: the newest one before this run started.
    asked = (
        TaskAuditEvent.objects.filter(
            task_ref=task.pk, action=AuditAction.RUN_REQUESTED, at__lte=log.started_at
        )
        .order_by("-at")
        .only("actor_name", "at")
        .first()
    )
    if asked is None:
        return _("Run now")
    return _("Run now, asked by %(who)s at %(when)s") % {
        "who": asked.actor_name or _("the system"),
        "when": display.format_when(asked.at, task),
    }


#: What the scheduler itself adds to a run's result, named.
ENGINE_KEYS = {
    "coalesced_slots": gettext_lazy("Missed runs it stood in for"),
    "checks_skipped": gettext_lazy("Checks that found the condition false before it"),
}


def described_result(task: ScheduledTask, result: Any) -> tuple[str, list[tuple[str, Any]]]:
    """The run's message and its data as (label, value) rows, through the task type's
    ``describe_result`` (the raw JSON stays on the page too)."""
    if result is None:
        return "", []
    rows: list[tuple[str, Any]] = []
    data = result
    message = ""
    if isinstance(result, dict):
        data = dict(result)
        for key, label in ENGINE_KEYS.items():
            if key in data:
                rows.append((str(label), describing.describe_value(data.pop(key))))
        if "message" in data:
            message = str(data.pop("message") or "")
            data = data.pop("data", None) if set(data) <= {"data"} else data
        elif set(data) == {"data"}:
            data = data["data"]
    task_type = display.task_type_of(task)
    if task_type is not None:
        described = task_type.describe_result(data)
    else:
        described = describing.describe_data(forms.Form, data)
    return message, [*described, *rows]
