"""What modules implement: providers, their task types, and task results."""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms

if TYPE_CHECKING:
    from typing import TypeAlias

    from django.db.models import Model

    from scheduler_app.context import TaskContext

    #: What ``SchedulableTask.required_permission`` may return.
    RequiredPermission: TypeAlias = str | tuple[str, Model] | list[str | tuple[str, Model]] | None


class EmptyConfigForm(forms.Form):
    """Config form of task types that take no configuration."""


class SchedulableTask(abc.ABC):
    """One kind of work a module offers for scheduling.

    Subclasses set ``name`` and ``config_form`` and implement ``execute``.
    Instances are created per run; they hold no state between runs.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    config_form: ClassVar[type[forms.Form]] = EmptyConfigForm
    #: Config keys that hold secrets: masked wherever a task is shown.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: Defaults for a new task of this type (the services fall back to settings).
    default_timeout: ClassVar[int | None] = None
    default_max_retries: ClassVar[int | None] = None

    def __init__(self, provider: type[TaskProvider] | None = None, key: str = "") -> None:
        self.provider = provider
        self.key = key

    @abc.abstractmethod
    def execute(self, context: TaskContext) -> TaskResult:
        """Do the work and say how it went."""

    def can_execute(self, context: TaskContext) -> bool:
        """Return False to skip this run (logged as skipped)."""
        return True

    def condition(self, context: TaskContext) -> bool:
        """For conditional schedules: run only when this holds."""
        return True

    def required_permission(self, config: dict[str, Any] | None = None) -> RequiredPermission:
        """A further permission a user needs to schedule or edit this task with this config.

        ``config`` is the cleaned config (form ``cleaned_data``: a
        ModelChoiceField gives the object). Return None, a permission
        (``"SA_REPORTS_FINANCE"`` or ``"app_label.codename"``), a
        ``(permission, obj)`` pair checked as a django-guardian object
        permission on ``obj``, or a list of these (all are required).
        """
        return None

    def describe_config(self, config: dict[str, Any]) -> list[tuple[str, Any]]:
        """The configuration as people read it: ``(label, value)`` rows, a value being a
        string or a list of strings. ``config`` has its secrets masked already.

        The default reads ``config_form``: field labels, choice labels, the chosen
        objects' names, lists as lists. Override to say it better.
        """
        from scheduler_app import describing

        return describing.describe_config(self.config_form, config)

    def describe_result(self, data: Any) -> list[tuple[str, Any]]:
        """A run's result ``data`` (``TaskResult.data``) as ``(label, value)`` rows.

        The default shows each key of a dict, named and shown like the config field
        of the same name if there is one (``"report": 1`` reads "Report: Sales").
        """
        from scheduler_app import describing

        return describing.describe_data(self.config_form, data)

    def on_success(self, result: TaskResult, context: TaskContext) -> None:
        """Called in the worker after a successful run."""

    def on_failure(self, error: str, context: TaskContext) -> None:
        """Called in the worker after a failed run."""


@dataclass(frozen=True)
class SystemTask:
    """A task every installation has, declared by a module in ``TaskProvider.system_tasks``.

    ``migrate`` (or ``manage.py scheduler_sync_system_tasks``) creates it as a
    system task (``is_system``: users may pause or run it, never edit or delete
    it) and applies later changes of the declaration; a declaration that is
    removed disables its task. The arguments are those of ``services.schedule``.
    """

    task_type: str
    name: str
    schedule_type: str = "cron"
    cron: str = ""
    interval: Any = None
    event: str = ""
    timezone: str = "UTC"
    config: dict[str, Any] = field(default_factory=dict)
    priority: int = 5
    max_retries: int | None = None
    timeout: int | None = None
    misfire_policy: str = "run_once"
    tags: tuple[str, ...] = ()


class TaskProvider:
    """A module's catalogue of schedulable task types.

    ``module_id`` is the stable key stored in the database; task types are
    addressed as ``<module_id>.<task_type>``. ``system_tasks`` maps stable
    names to :class:`SystemTask` declarations (keys ``<module_id>.<name>``).
    ``page_url_name`` names the URL of the module's own page of its tasks
    (``"reports:schedules"``); the admin's dashboard and the scheduling pages
    link to it for the module's users.
    """

    module_id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    base_permission: ClassVar[str] = ""
    admin_permission: ClassVar[str | None] = None
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {}
    system_tasks: ClassVar[dict[str, SystemTask]] = {}
    page_url_name: ClassVar[str] = ""

    @classmethod
    def verbose_name(cls) -> str:
        """The module's display name: ``name``, or the module id in title case."""
        return cls.name or cls.module_id.replace("_", " ").title()

    @classmethod
    def admin_permission_name(cls) -> str:
        """The module admin permission: explicit, or ``<base>_ADMIN``."""
        if cls.admin_permission:
            return cls.admin_permission
        if "." in cls.base_permission:
            # An existing permission of another app has no admin twin; ours is created.
            return f"SA_{cls.module_id.upper()}_ADMIN"
        return f"{cls.base_permission}_ADMIN"

    @classmethod
    def get_task_type(cls, key: str) -> type[SchedulableTask]:
        """The task type registered under ``key``; raises ``NotRegistered`` naming the known keys."""
        from scheduler_app.exceptions import NotRegistered

        try:
            return cls.task_types[key]
        except KeyError:
            known = ", ".join(sorted(cls.task_types)) or "none"
            raise NotRegistered(
                f"Module '{cls.module_id}' has no task type '{key}' (known: {known})."
            ) from None


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one run, returned by ``SchedulableTask.execute``."""

    SUCCESS: ClassVar[str] = "success"
    FAILURE: ClassVar[str] = "failure"
    PENDING: ClassVar[str] = "pending"

    status: str
    message: str | None = None
    data: Any = None
    retry: bool = True
    retry_delay: float | None = None
    next_run: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def success(cls, message: str | None = None, data: Any = None) -> TaskResult:
        """The run did its work; ``data`` (JSON-serialisable) is kept in the run's log."""
        return cls(cls.SUCCESS, message=message, data=data)

    @classmethod
    def failure(
        cls,
        message: str,
        data: Any = None,
        retry: bool = True,
        retry_delay: float | None = None,
    ) -> TaskResult:
        """The run failed; retried with backoff (or after ``retry_delay`` seconds) unless ``retry=False``."""
        return cls(cls.FAILURE, message=message, data=data, retry=retry, retry_delay=retry_delay)

    @classmethod
    def pending(cls, next_run: dt.datetime | None = None) -> TaskResult:
        """Not ready yet: try again at ``next_run`` (or after the retry backoff)."""
        return cls(cls.PENDING, next_run=next_run)

    @property
    def ok(self) -> bool:
        """True for a success."""
        return self.status == self.SUCCESS
