"""The scheduler events the Todo module sends from its own model saves.

``todo.todo.completed``: a todo was done (payload: todo, title, assignee, goal).
``todo.goal.progressed``: a goal's progress changed (payload: goal, progress,
target, percent); a ``goal_milestone_alert`` task on this event alerts at once.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from scheduler_app.events import became, changed, emit_on

TODO_COMPLETED = "todo.todo.completed"
GOAL_PROGRESSED = "todo.goal.progressed"


def todo_payload(instance: Any, **kwargs: Any) -> dict[str, Any]:
    return {
        "todo": instance.pk,
        "title": instance.title,
        "assignee": instance.assignee_id,
        "goal": instance.goal_id,
    }


def goal_payload(instance: Any, **kwargs: Any) -> dict[str, Any]:
    return {
        "goal": instance.pk,
        "progress": instance.progress,
        "target": instance.target,
        "percent": instance.percent,
    }


def connect() -> None:
    from project.todo.models import Goal, Todo, TodoStatus

    emit_on(
        Todo,
        post_save,
        TODO_COMPLETED,
        when=became("status", TodoStatus.DONE),
        payload=todo_payload,
        dispatch_uid="todo.todo.completed",
    )
    emit_on(
        Goal,
        post_save,
        GOAL_PROGRESSED,
        when=changed("progress"),
        payload=goal_payload,
        dispatch_uid="todo.goal.progressed",
    )
