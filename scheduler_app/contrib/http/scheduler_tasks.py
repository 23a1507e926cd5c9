"""The HTTP module: one task type that sends an HTTP request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register
from scheduler_app.contrib.http.forms import HttpRequestForm

if TYPE_CHECKING:
    from scheduler_app.context import TaskContext


class HttpRequest(SchedulableTask):
    name = "HTTP request"
    description = (
        "Send an HTTP request and check the answer's status; 5xx answers and "
        "connection failures are retried, 4xx answers are not."
    )
    config_form = HttpRequestForm
    secret_fields = ("secret_headers",)
    default_timeout = 660  # above the longest request timeout the form accepts

    def execute(self, context: TaskContext) -> TaskResult:
        # The client and the outbound guard are loaded by the first request, not by every
        # process that autodiscovers this provider (a crontab pass with no HTTP task due).
        from scheduler_app.contrib.http import client

        return client.send(context.config)


@register
class HttpProvider(TaskProvider):
    module_id = "http"
    name = "HTTP requests"
    base_permission = "SA_HTTP"
    task_types = {"request": HttpRequest}
