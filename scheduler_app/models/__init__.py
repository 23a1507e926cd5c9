"""The scheduler's models, one module per concern; import them from here."""

from scheduler_app.models.approvals import Approval, ApprovalQuerySet, ApprovalStatus
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
from scheduler_app.models.hooks import (
    DeliveryOutcome,
    HookDelivery,
    HookDeliveryQuerySet,
    HookNonce,
    InboundHook,
    InboundHookQuerySet,
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
from scheduler_app.models.workflows import (
    FINAL_STEP_STATUSES,
    EdgeCondition,
    StepStatus,
    WorkflowEdge,
    WorkflowRun,
    WorkflowRunStatus,
    WorkflowStep,
)

__all__ = [
    "FINAL_STEP_STATUSES",
    "TRANSITIONS",
    "Approval",
    "ApprovalQuerySet",
    "ApprovalStatus",
    "EdgeCondition",
    "StepStatus",
    "WorkflowEdge",
    "WorkflowRun",
    "WorkflowRunStatus",
    "WorkflowStep",
    "AlertState",
    "AuditAction",
    "AuditSource",
    "BlackoutCalendar",
    "BlackoutPeriod",
    "DeliveryOutcome",
    "FeedToken",
    "HookDelivery",
    "HookDeliveryQuerySet",
    "HookNonce",
    "InboundHook",
    "InboundHookQuerySet",
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
