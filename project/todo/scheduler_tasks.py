"""The schedulable tasks of the Todo module (autodiscovered by scheduler_app)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from project.todo.forms import (
    DeadlineReminderForm,
    GoalMilestoneAlertForm,
    OverdueEscalationForm,
    TeamDigestForm,
)
from project.todo.models import Goal, TeamMember, Todo, TodoStatus
from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register
from scheduler_app.context import TaskContext
from scheduler_app.notifications import Message, Outbox


def _local(when: dt.datetime | None, context: TaskContext) -> str:
    if when is None:
        return "no due date"
    return timezone.localtime(when, ZoneInfo(context.timezone or "UTC")).strftime(
        "%Y-%m-%d %H:%M %Z"
    )


def _members(group: Any) -> list[Any]:
    if group is None:
        return []
    return list(get_user_model().objects.filter(groups=group, is_active=True).order_by("pk"))


class DeadlineReminder(SchedulableTask):
    name = "Deadline reminder"
    description = "Remind assignees of their open todos shortly before they are due."
    config_form = DeadlineReminderForm

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        due = (
            Todo.objects.filter(
                status=TodoStatus.OPEN,
                reminded_at__isnull=True,
                assignee__isnull=False,
                due_at__gt=now,
                due_at__lte=now + dt.timedelta(hours=context.config["hours_before"]),
            )
            .select_related("assignee")
            .order_by("due_at", "pk")
        )
        mine: dict[Any, list[Todo]] = defaultdict(list)
        for todo in due:
            mine[todo.assignee].append(todo)
        outbox = Outbox(context)
        reminded: list[int] = []
        for person, todos in mine.items():
            lines = [f"- {t.title}: due {_local(t.due_at, context)}" for t in todos]
            message = Message(
                subject=f"Due soon: {len(todos)} todo(s)",
                text="These todos are due soon:\n" + "\n".join(lines),
                key="due-" + ",".join(str(t.pk) for t in todos),
            )
            if outbox.send([person], message):
                reminded.extend(t.pk for t in todos)
        Todo.objects.filter(pk__in=reminded).update(reminded_at=now)
        return outbox.result(f"Reminded about {len(reminded)} todo(s).", data={"todos": reminded})


class GoalMilestoneAlert(SchedulableTask):
    name = "Goal milestone alert"
    description = "Tell a goal's owner and team when its progress reaches a milestone."
    config_form = GoalMilestoneAlertForm

    def execute(self, context: TaskContext) -> TaskResult:
        milestones: list[int] = context.config["milestones"]
        goals = Goal.objects.select_related("owner", "team").order_by("pk")
        if context.payload.get("goal") is not None:
            goals = goals.filter(pk=context.payload["goal"])  # run by the progress event
        outbox = Outbox(context)
        alerted: dict[int, int] = {}
        for goal in goals:
            reached = [m for m in milestones if goal.last_milestone < m <= goal.percent]
            if not reached:
                continue
            milestone = reached[-1]
            message = Message(
                subject=f"Goal {goal.title}: {milestone}% reached",
                text=f"“{goal.title}” is at {goal.progress} of {goal.target} ({goal.percent}%).",
                key=f"goal-{goal.pk}-{milestone}",
            )
            if outbox.send([goal.owner, *_members(goal.team)], message):
                alerted[goal.pk] = milestone
        for pk, milestone in alerted.items():
            Goal.objects.filter(pk=pk, last_milestone__lt=milestone).update(
                last_milestone=milestone
            )
        return outbox.result(
            f"Alerted {len(alerted)} goal milestone(s).",
            data={"goals": {str(k): v for k, v in alerted.items()}},
        )


class OverdueEscalation(SchedulableTask):
    name = "Overdue escalation"
    description = (
        "Escalate todos overdue past a grace period to the assignee's manager, "
        "else to the todo's team, else to a chosen group."
    )
    config_form = OverdueEscalationForm

    def escalate_to(self, todo: Todo, managers: dict[int, Any], fallback: list[Any]) -> list[Any]:
        manager = managers.get(todo.assignee_id)
        if manager is not None:
            return [manager]
        team = [u for u in _members(todo.team) if u.pk != todo.assignee_id]
        return team or [u for u in fallback if u.pk != todo.assignee_id]

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        overdue = list(
            Todo.objects.filter(
                status=TodoStatus.OPEN,
                escalated_at__isnull=True,
                assignee__isnull=False,
                due_at__lt=now - dt.timedelta(hours=context.config["grace_hours"]),
            )
            .select_related("assignee", "team")
            .order_by("due_at", "pk")
        )
        managers = {
            m.user_id: m.manager
            for m in TeamMember.objects.filter(
                user_id__in={t.assignee_id for t in overdue}, manager__isnull=False
            ).select_related("manager")
        }
        fallback = _members(context.config.get("fallback_group"))
        outbox = Outbox(context)
        escalated: list[int] = []
        nobody: list[int] = []
        for todo in overdue:
            people = self.escalate_to(todo, managers, fallback)
            if not people:
                nobody.append(todo.pk)
                continue
            message = Message(
                subject=f"Overdue: {todo.title} ({todo.assignee})",
                text=f"“{todo.title}”, assigned to {todo.assignee}, was due "
                f"{_local(todo.due_at, context)} and is still open.",
                level="warning",
                key=f"overdue-{todo.pk}",
            )
            if outbox.send(people, message):
                escalated.append(todo.pk)
        Todo.objects.filter(pk__in=escalated).update(escalated_at=now)
        summary = f"Escalated {len(escalated)} overdue todo(s)."
        if nobody:
            summary += f" {len(nobody)} had no one to escalate to."
        return outbox.result(summary, data={"todos": escalated, "no_one": nobody})


class TeamDigest(SchedulableTask):
    name = "Team digest"
    description = "Send each member of a team its overdue, upcoming and recently done todos."
    config_form = TeamDigestForm

    def execute(self, context: TaskContext) -> TaskResult:
        team = context.config["team"]
        now = timezone.now()
        span = dt.timedelta(days=context.config["days"])
        todos = Todo.objects.filter(team=team).select_related("assignee")
        overdue = list(todos.filter(status=TodoStatus.OPEN, due_at__lt=now).order_by("due_at"))
        upcoming = list(
            todos.filter(status=TodoStatus.OPEN, due_at__gte=now, due_at__lte=now + span).order_by(
                "due_at"
            )
        )
        done = list(
            todos.filter(status=TodoStatus.DONE, done_at__gte=now - span).order_by("-done_at")
        )
        members = _members(team)
        if not members:
            return TaskResult.success(f"Team {team} has no active members; no digest sent.")

        def section(title: str, rows: list[Todo], when: str) -> str:
            lines = [
                f"- {t.title} ({t.assignee or 'unassigned'}, {_local(getattr(t, when), context)})"
                for t in rows
            ] or ["- none"]
            return f"{title}:\n" + "\n".join(lines)

        text = "\n\n".join(
            [
                section("Overdue", overdue, "due_at"),
                section("Due soon", upcoming, "due_at"),
                section("Done recently", done, "done_at"),
            ]
        )
        outbox = Outbox(context)
        outbox.send(
            members,
            Message(
                subject=f"{team} digest: {len(overdue)} overdue, "
                f"{len(upcoming)} due soon, {len(done)} done",
                text=text,
                key=f"digest-{team.pk}",
            ),
        )
        return outbox.result(
            f"Sent the {team} digest to {len(members)} member(s).",
            data={
                "overdue": len(overdue),
                "upcoming": len(upcoming),
                "done": len(done),
                "members": len(members),
            },
        )


@register
class TodoProvider(TaskProvider):
    module_id = "todo"
    name = "Todo"
    base_permission = "SA_TODO"
    page_url_name = "todo:schedules"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {
        "deadline_reminder": DeadlineReminder,
        "goal_milestone_alert": GoalMilestoneAlert,
        "overdue_escalation": OverdueEscalation,
        "team_digest": TeamDigest,
    }
