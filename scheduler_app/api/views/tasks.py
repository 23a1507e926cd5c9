"""tasks/: list, schedule, read, change, delete, and the run/pause/resume/cancel/stop actions.

Every answer comes from the services and the one policy: a task the caller
may not see is a 404, one they may see but not change a 403 with the reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import policy, schedules, services
from scheduler_app.api import errors, masking
from scheduler_app.api import run_serializers as runs_api
from scheduler_app.api import serializers as api
from scheduler_app.api.views.base import ApiMixin, documented
from scheduler_app.models import RunStatus, ScheduledTask, TaskStatus

#: Upcoming runs shown on a task.
NEXT_RUNS = 5
#: ?ordering= values (a leading "-" reverses) -> model field.
ORDERING = {
    "id": "pk",
    "name": "name",
    "status": "status",
    "priority": "priority",
    "next_run": "next_run",
    "last_run": "last_run",
    "created_at": "created_at",
    "updated_at": "updated_at",
}
MAX_FILTER_LENGTH = 200
#: Columns a run row of the history needs (the large texts only on runs/{id}/).
RUN_ROW_FIELDS = tuple(f for f in runs_api.RunSerializer.Meta.fields if f not in ("id", "task")) + (
    "pk",
    "task_id",
)
LIST_PARAMETERS = [
    OpenApiParameter("module", str, description="Module id, e.g. reports."),
    OpenApiParameter("task_type", str, description="Task type key within the module."),
    OpenApiParameter("status", str, enum=TaskStatus.values),
    OpenApiParameter("tag", str),
    OpenApiParameter("owner", str, description="The owner's username."),
    OpenApiParameter("search", str, description="Part of the task's name."),
    OpenApiParameter(
        "ordering",
        str,
        description="One of: " + ", ".join(ORDERING) + "; a leading - reverses.",
    ),
]
ACTION_RESPONSES = {200: api.TaskSerializer}
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number (from 1)."),
    OpenApiParameter("page_size", int, description="Rows per page."),
]


def filter_tasks(tasks: QuerySet[ScheduledTask], params: Any) -> QuerySet[ScheduledTask]:
    """Apply the list's query parameters; a bad value is a 400 naming it."""
    bad: dict[str, list[str]] = {}
    values = {}
    for name in ("module", "task_type", "status", "tag", "owner", "search", "ordering"):
        value = params.get(name)
        if value is None or (value == "" and name != "status"):
            continue  # an empty text filter filters nothing; an empty status is no status
        if len(value) > MAX_FILTER_LENGTH or "\x00" in value:
            bad[name] = [_("Send at most %(max)d characters.") % {"max": MAX_FILTER_LENGTH}]
            continue
        values[name] = value
    if "status" in values and values["status"] not in TaskStatus.values:
        bad["status"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(TaskStatus.values)}]
    ordering = values.get("ordering", "")
    if ordering and ordering.lstrip("-") not in ORDERING:
        bad["ordering"] = [_("Choose one of: %(c)s.") % {"c": ", ".join(ORDERING)}]
    if bad:
        raise exceptions.ValidationError(bad)
    if "module" in values:
        tasks = tasks.filter(module_id=values["module"])
    if "task_type" in values:
        tasks = tasks.filter(task_type=values["task_type"])
    if "status" in values:
        tasks = tasks.filter(status=values["status"])
    if "tag" in values:
        tasks = tasks.with_tag(values["tag"].strip().lower())  # type: ignore[attr-defined]
    if "owner" in values:
        tasks = tasks.filter(**{f"owner__{get_user_model().USERNAME_FIELD}": values["owner"]})
    if "search" in values:
        tasks = tasks.filter(name__icontains=values["search"])
    if ordering:
        field = ORDERING[ordering.lstrip("-")]
        sign = "-" if ordering.startswith("-") else ""
        tasks = tasks.order_by(f"{sign}{field}", f"{sign}pk")
    return tasks


def _config_fields(module: str, task_type: str) -> set[str] | None:
    try:
        return set(services.resolve_task_type(module, task_type).config_form().fields)
    except ValidationError:
        return None


def check_config_keys(config: Any, known: set[str] | None) -> None:
    """Unknown config keys are refused, named (the services would drop them silently)."""
    if known is None or not isinstance(config, dict):
        return
    unknown = sorted(str(k)[:80] for k in config if k not in known)
    if unknown:
        raise exceptions.ValidationError({f"config.{k}": [_("Unknown field.")] for k in unknown})


def config_rename(known: set[str] | None, serializer: Any) -> dict[str, str]:
    """Service error keys of config form fields -> ``config.<field>``."""
    return {k: f"config.{k}" for k in (known or ()) if k not in serializer.fields}


def schedule_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """Validated API fields as ``services.schedule``/``update`` keyword arguments."""
    arguments = dict(data)
    for key in ("run_at", "interval", "timezone"):
        if key in arguments and arguments[key] == "":
            arguments[key] = None
    return arguments


def refuse_system(task: ScheduledTask) -> None:
    if task.is_system:
        raise PermissionDenied(
            _("“%(name)s” is a system task: it cannot be changed or deleted (pause or run it).")
            % {"name": task.name}
        )


class TaskViewSet(ApiMixin, viewsets.GenericViewSet):
    queryset = ScheduledTask.objects.none()
    serializer_class = api.TaskSerializer

    def get_object(self) -> ScheduledTask:
        pk = str(self.kwargs.get("pk", ""))
        # isascii: "²" and other digits that int() refuses are digits to isdigit().
        if not (pk.isascii() and pk.isdigit() and len(pk) <= 18):
            raise exceptions.NotFound(_("Not found."))
        return services.get_task(int(pk), user=self.request.user)

    def _answer(self, task: ScheduledTask, code: int = status.HTTP_200_OK) -> Response:
        actions = policy.allowed_actions_for(self.request.user, [task])
        return Response(api.TaskSerializer(task, context={"actions": actions}).data, status=code)

    def _detail(self, task: ScheduledTask, code: int = status.HTTP_200_OK) -> Response:
        runs = services.next_runs_with_notes(task=task, count=NEXT_RUNS)
        context = {
            "actions": policy.allowed_actions_for(self.request.user, [task]),
            "next_runs": api.planned_rows(runs),
            "same_minute": [
                {"id": pk, "name": name, "next_run": at}
                for pk, name, at in services.same_minute(task, user=self.request.user)
            ],
        }
        return Response(api.TaskDetailSerializer(task, context=context).data, status=code)

    @documented(parameters=LIST_PARAMETERS, responses=api.TaskSerializer(many=True))
    def list(self, request: Request) -> Response:
        """The tasks you may see, filtered and paginated."""
        tasks = policy.viewable_queryset(request.user).select_related("owner")
        page = self.paginate_queryset(filter_tasks(tasks, request.query_params))
        actions = policy.allowed_actions_for(request.user, page or [])
        data = api.TaskSerializer(page, many=True, context={"actions": actions}).data
        return self.get_paginated_response(data)

    @documented(
        request=api.TaskCreateSerializer,
        responses={201: api.TaskDetailSerializer, 409: api.ConflictSerializer},
    )
    def create(self, request: Request) -> Response:
        """Schedule a task (the arguments of services.schedule)."""
        serializer = api.TaskCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = schedule_arguments(serializer.validated_data)
        allow_duplicate = data.pop("allow_duplicate", False)
        known = _config_fields(data["module"], data["task_type"])
        check_config_keys(data.get("config"), known)
        try:
            if policy.can_schedule(request.user, data["module"], data["task_type"]):
                services.refuse_duplicate(
                    user=request.user,
                    allow_duplicate=allow_duplicate,
                    module=data["module"],
                    task_type=data["task_type"],
                    config=data.get("config"),
                    **{key: data.get(key) for key in schedules.ARGUMENTS},
                )
            task = services.schedule(user=request.user, **data)
        except services.DuplicateTask:
            raise
        except ValidationError as exc:
            return errors.invalid(
                errors.field_errors(
                    exc, config_rename(known, serializer), errors.request_inputs(request)
                )
            )
        return self._detail(task, status.HTTP_201_CREATED)

    @documented(responses=api.TaskDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """One task, with its next runs (DST notes) and the tasks firing in the same minute."""
        return self._detail(self.get_object())

    @documented(request=api.TaskUpdateSerializer, responses=api.TaskDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change the fields sent (services.update); the schedule is checked again."""
        task = self.get_object()
        refuse_system(task)
        serializer = api.TaskUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = schedule_arguments(serializer.validated_data)
        resume = changes.pop("resume", False)
        known = _config_fields(task.module_id, task.task_type)
        check_config_keys(changes.get("config"), known)
        try:
            services.update(task, user=request.user, resume=resume, **changes)
        except ValidationError as exc:
            return errors.invalid(
                errors.field_errors(
                    exc, config_rename(known, serializer), errors.request_inputs(request)
                )
            )
        return self._detail(task)

    @documented(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        """Cancel the task and delete it with its runs (its audit history stays)."""
        task = self.get_object()
        refuse_system(task)
        with transaction.atomic():
            if task.status != TaskStatus.CANCELLED and policy.can_delete(request.user, task):
                services.cancel(task, user=request.user)
            services.delete(task, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _act(self, name: str) -> Response:
        task = self.get_object()
        getattr(services, name)(task, user=self.request.user)
        return self._answer(task)

    @documented(request=None, responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str) -> Response:
        """Run now: the next scheduler pass runs it."""
        return self._act("run_now")

    @documented(request=None, responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        """Pause until resumed."""
        return self._act("pause")

    @documented(request=None, responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """Resume a paused task; missed runs are not replayed."""
        return self._act("resume")

    @documented(request=None, responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Stop the task for good (it stays, with its history)."""
        return self._act("cancel")

    @documented(request=None, responses=ACTION_RESPONSES)
    @action(detail=True, methods=["post"], url_path="clear-lock")
    def clear_lock(self, request: Request, pk: str) -> Response:
        """Remove the task's overlap lock (module and scheduler administrators)."""
        return self._act("clear_lock")

    @documented(request=None, responses={202: runs_api.RunSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        """Stop the run in progress (its worker gets SIGTERM, then SIGKILL)."""
        task = self.get_object()
        if not policy.can_run(request.user, task):
            raise PermissionDenied(_("You may not stop runs of this task."))
        log = (
            task.logs.filter(status__in=(RunStatus.RUNNING, RunStatus.ENQUEUED))
            .order_by("-started_at", "-pk")
            .first()
        )
        if log is None:
            raise ValidationError({"status": _("This task has no run in progress.")})
        log = services.interrupt(log, user=request.user)
        context = {"secrets": masking.secret_values(task)}
        return Response(
            runs_api.RunSerializer(log, context=context).data, status=status.HTTP_202_ACCEPTED
        )

    @documented(parameters=PAGE_PARAMETERS, responses=runs_api.RunPageSerializer)
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, pk: str) -> Response:
        """The task's runs, newest first, paginated."""
        task = self.get_object()
        logs = services.task_logs(task, user=request.user).only(*RUN_ROW_FIELDS)
        page = self.paginate_queryset(logs)
        context = {"secrets": masking.secret_values(task)}
        return self.get_paginated_response(
            runs_api.RunSerializer(page, many=True, context=context).data
        )
