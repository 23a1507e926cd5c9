"""The one access policy. Services, admin, views, forms and commands ask here.

Rules (DESIGN.md, Permissions; the full matrix is docs/permissions.md):

1. schedule: SA_SCHEDULER + the module's base permission (+ the task type's
   ``required_permission`` for that config, if any); module admins may
   schedule in their module without SA_SCHEDULER;
2. view: own tasks + every task of a module whose base permission the user
   holds (read-only) + tasks shared with the user or their groups;
   SA_SCHEDULER_VIEW sees every task, read-only;
3. edit and 4. cancel/pause/resume/run: own tasks, or tasks shared through
   guardian object permissions;
5. module admin: everything in that module;
6. scheduler admin (SA_SCHEDULER_ADMIN, and superusers): everything.

System tasks are never edited or deleted by a user, whoever it is. Inactive
and anonymous users may do nothing.

Object permissions (django-guardian, on ScheduledTask) and what they open:

    view_scheduledtask    view, view_logs, view_history
    change_scheduledtask  + edit, pause, resume, run, cancel
    run_scheduledtask     + run, pause, resume
    delete_scheduledtask  + delete, cancel

The owner holds all four (``services.schedule`` assigns them) and may share.

Public names (stable; the admin, views and commands use them):

    ACTIONS, TASK_ACTIONS, READ_ACTIONS, SHARE_LEVELS
    is_scheduler_admin(user), can_view_all(user)
    is_module_user(user, module_id), is_module_admin(user, module_id)
    can_manage_calendars(user), can_pause_module(user, module_id or None)
    base_permission(module_id), admin_permission(module_id)
    required_permissions(task_cls, config) -> [(perm, obj | None), ...]
    has_required_permissions(user, task_cls, config) -> bool
    can_schedule(user, module_id, task_type=None, config=None) -> bool
    schedulable_modules(user), administered_modules(user) -> [module_id, ...]
    allowed_actions(user, task) -> frozenset of action names
    allowed_actions_for(user, tasks) -> {task.pk: frozenset}   (bulk, 1 query)
    actions_on_some_task(user) -> frozenset   (what to offer on a list, 2 queries)
    possible_actions(task) -> what the task's status permits, whoever asks
    available_actions(user, task) -> allowed and possible: the buttons to show
    can_view, can_view_logs, can_view_history, can_edit, can_pause, can_resume,
    can_cancel, can_run, can_delete, can_share (user, task) -> bool
    can_clear_lock(user, task) -> bool      overlap locks: module and scheduler admins
    lock_clearable_queryset(user, queryset=None)   tasks whose lock ``user`` may clear
    viewable_queryset(user, queryset=None)   one lazy queryset
    viewable_logs(user, queryset=None)       execution logs of viewable tasks
    can_see_every_calendar(user), viewable_calendars(user, queryset=None)
    forget(user)                             drop cached object permissions

In a template: ``{% if "edit" in actions %}`` with
``actions = policy.allowed_actions(request.user, task)``; for a changelist,
``policy.allowed_actions_for(request.user, page_of_tasks)`` costs one query
whatever the number of rows.

Inside: ``roles`` (who the user is, module rules, scheduling), ``tasks``
(actions on one task, object permissions), ``querysets`` (the lists a user
sees), ``permissions`` (the Django permissions each provider declares).
"""

from scheduler_app.policy.querysets import (
    lock_clearable_queryset,
    viewable_calendars,
    viewable_logs,
    viewable_queryset,
)
from scheduler_app.policy.roles import (
    admin_permission,
    administered_modules,
    base_permission,
    can_manage_calendars,
    can_pause_module,
    can_schedule,
    can_see_every_calendar,
    can_view_all,
    has_required_permissions,
    is_active_user,
    is_module_admin,
    is_module_user,
    is_scheduler_admin,
    required_permissions,
    schedulable_modules,
)
from scheduler_app.policy.tasks import (
    ACTIONS,
    CANCEL,
    DELETE,
    EDIT,
    OBJECT_CHANGE,
    OBJECT_DELETE,
    OBJECT_PERMS,
    OBJECT_RUN,
    OBJECT_VIEW,
    PAUSE,
    READ_ACTIONS,
    RESUME,
    RUN,
    SHARE,
    SHARE_LEVELS,
    TASK_ACTIONS,
    VIEW,
    VIEW_HISTORY,
    VIEW_LOGS,
    actions_on_some_task,
    allowed_actions,
    allowed_actions_for,
    available_actions,
    can_cancel,
    can_clear_lock,
    can_delete,
    can_edit,
    can_pause,
    can_resume,
    can_run,
    can_share,
    can_view,
    can_view_history,
    can_view_logs,
    forget,
    possible_actions,
)

__all__ = [
    "ACTIONS",
    "CANCEL",
    "DELETE",
    "EDIT",
    "OBJECT_CHANGE",
    "OBJECT_DELETE",
    "OBJECT_PERMS",
    "OBJECT_RUN",
    "OBJECT_VIEW",
    "PAUSE",
    "READ_ACTIONS",
    "RESUME",
    "RUN",
    "SHARE",
    "SHARE_LEVELS",
    "TASK_ACTIONS",
    "VIEW",
    "VIEW_HISTORY",
    "VIEW_LOGS",
    "actions_on_some_task",
    "admin_permission",
    "administered_modules",
    "allowed_actions",
    "allowed_actions_for",
    "available_actions",
    "base_permission",
    "can_cancel",
    "can_clear_lock",
    "can_delete",
    "can_edit",
    "can_manage_calendars",
    "can_pause",
    "can_pause_module",
    "can_resume",
    "can_run",
    "can_schedule",
    "can_see_every_calendar",
    "can_share",
    "can_view",
    "can_view_all",
    "can_view_history",
    "can_view_logs",
    "forget",
    "has_required_permissions",
    "is_active_user",
    "is_module_admin",
    "is_module_user",
    "is_scheduler_admin",
    "lock_clearable_queryset",
    "possible_actions",
    "required_permissions",
    "schedulable_modules",
    "viewable_calendars",
    "viewable_logs",
    "viewable_queryset",
]
