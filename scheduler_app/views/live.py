"""The live runs' JSON, polled by ``static/scheduler_app/live.js`` on the task, run,
dashboard and module pages: progress, time left, output so far, final status.

GET only; answers 401 without a signed-in user and 404 for what the user may
not see (its existence is not revealed), like the HTTP API.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from scheduler_app import policy
from scheduler_app.models import ScheduledTask
from scheduler_app.presentation import display
from scheduler_app.presentation.links import reverse_or_empty
from scheduler_app.services import live

MODULE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def run_json(run: live.LiveRun, user: Any) -> dict[str, Any]:
    """One live run as the pages' script reads it (times already in the task's zone).

    Its links lead where ``user`` may go: the admin's task and run pages for staff, the
    task's edit page (and no run page) for everyone else.
    """
    task = run.task
    staff = bool(getattr(user, "is_staff", False))
    progress = ""
    if run.done is not None:
        progress = (
            _("%(done)s of %(total)s") % {"done": run.done, "total": run.total}
            if run.total is not None
            else str(run.done)
        )
        if run.percent is not None:
            progress += f" ({display.percent(run.percent)})"
    return {
        "id": run.id,
        "task": task.pk,
        "task_name": task.name,
        "status": run.status,
        "status_label": str(display.LABELS.get(run.status, run.status)),
        "running": run.running,
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "message": run.message,
        "progress_text": progress,
        "started_at": run.started_at.isoformat(),
        "started": display.format_when(run.started_at, task),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "finished": display.format_when(run.finished_at, task) if run.finished_at else "",
        "elapsed": round(run.elapsed, 3),
        "elapsed_text": display.duration(run.elapsed),
        "seconds_left": None if run.seconds_left is None else round(run.seconds_left, 1),
        "left_text": "" if run.seconds_left is None else display.duration(run.seconds_left),
        "output_tail": run.output_tail,
        "error": run.error,
        "url": reverse_or_empty("admin:scheduler_app_scheduledtask_log", task.pk, run.id)
        if staff
        else "",
        "task_url": reverse_or_empty("admin:scheduler_app_scheduledtask_change", task.pk)
        if staff
        else reverse_or_empty("scheduler_app:edit", task.pk),
    }


def _answer(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def get_only(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """GET and HEAD only; any other method is a 405 with a JSON reason, as the API answers."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if request.method not in ("GET", "HEAD"):
            response = _answer({"detail": _("Use GET.")}, 405)
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


def _refused(request: HttpRequest) -> JsonResponse | None:
    if not policy.is_active_user(request.user):
        return _answer({"detail": _("Sign in to see live runs.")}, 401)
    return None


@never_cache
@get_only
def live_run(request: HttpRequest, log_id: int) -> JsonResponse:
    """One run: ``{"run": {...}}``."""
    if (refused := _refused(request)) is not None:
        return refused
    run = live.run(log_id, user=request.user, now=timezone.now())
    if run is None:
        return _answer({"detail": _("No such run.")}, 404)
    return _answer({"run": run_json(run, request.user)})


@never_cache
@get_only
def live_task(request: HttpRequest, pk: int) -> JsonResponse:
    """A task's status, its open runs and its newest run: ``{"task": {...}, "runs": [...]}``."""
    if (refused := _refused(request)) is not None:
        return refused
    task = policy.viewable_queryset(request.user, ScheduledTask.objects.all()).filter(pk=pk).first()
    if task is None:
        return _answer({"detail": _("No such task.")}, 404)
    if not policy.can_view_logs(request.user, task):
        return _answer({"detail": _("You may not see the runs of this task.")}, 403)
    runs = live.task_runs(task, user=request.user, now=timezone.now())
    return _answer(
        {
            "task": {
                "id": task.pk,
                "status": task.status,
                "status_label": str(display.LABELS.get(task.status, task.status)),
                "run_requested": bool(task.run_requested),
            },
            "runs": [run_json(run, request.user) for run in runs],
        }
    )


@never_cache
@get_only
def live_running(request: HttpRequest) -> JsonResponse:
    """The runs going on now that the user may see (``?module=``: of one module)."""
    if (refused := _refused(request)) is not None:
        return refused
    module = request.GET.get("module", "").strip()
    if module and not MODULE_ID.match(module):
        return _answer({"detail": _("Not a module id."), "field": "module"}, 400)
    runs = live.running(user=request.user, now=timezone.now(), module=module or None)
    return _answer({"runs": [run_json(run, request.user) for run in runs]})
