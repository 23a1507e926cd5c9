"""The scheduler's models, one module per concern; import them from here."""

from scheduler_app.models.audit import (
    AuditAction,
    AuditSource,
    TaskAuditEvent,
    TaskAuditEventQuerySet,
)
from scheduler_app.models.calendars import (
    BlackoutCalendar,
    BlackoutPeriod,
    FeedToken,
    PauseWindow,
    PauseWindowQuerySet,
)
from scheduler_app.models.choices import (
    IntervalUnit,
    MisfirePolicy,
    RunStatus,
    ScheduleType,
    TaskStatus,
)
from scheduler_app.models.lifecycle import TRANSITIONS, check_transition
from scheduler_app.models.notifications import (
    Notification,
    NotificationLevel,
    NotificationQuerySet,
    SystemTaskRecord,
)
from scheduler_app.models.runs import (
    AlertState,
    PendingAlert,
    SchedulerHeartbeat,
    TaskExecutionLog,
    TaskExecutionLogQuerySet,
)
from scheduler_app.models.tasks import PendingEvent, ScheduledTask, ScheduledTaskQuerySet

__all__ = [
    "TRANSITIONS",
    "AlertState",
    "AuditAction",
    "AuditSource",
    "BlackoutCalendar",
    "BlackoutPeriod",
    "FeedToken",
    "IntervalUnit",
    "MisfirePolicy",
    "Notification",
    "NotificationLevel",
    "NotificationQuerySet",
    "PauseWindow",
    "PauseWindowQuerySet",
    "PendingAlert",
    "PendingEvent",
    "RunStatus",
    "ScheduleType",
    "ScheduledTask",
    "ScheduledTaskQuerySet",
    "SchedulerHeartbeat",
    "SystemTaskRecord",
    "TaskAuditEvent",
    "TaskAuditEventQuerySet",
    "TaskExecutionLog",
    "TaskExecutionLogQuerySet",
    "TaskStatus",
    "check_transition",
]
