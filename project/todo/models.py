"""Todos, the goals they count towards, and who reports to whom."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TeamMember(models.Model):
    """Where a user sits: their manager (escalations go there) and their team."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="todo_member",
        verbose_name=_("user"),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todo_reports",
        verbose_name=_("manager"),
    )
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todo_members",
        verbose_name=_("team"),
    )

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self) -> str:
        return str(self.user)


class Goal(models.Model):
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todo_goals",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todo_goals",
        verbose_name=_("team"),
    )
    target = models.PositiveIntegerField(_("target"), default=10)
    progress = models.PositiveIntegerField(_("progress"), default=0)
    due_date = models.DateField(_("due"), null=True, blank=True)
    # The highest milestone (percent) already announced.
    last_milestone = models.PositiveSmallIntegerField(_("last milestone alerted"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["title", "pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        return min(100, self.progress * 100 // self.target) if self.target else 100

    def advance(self, by: int = 1) -> None:
        """Count progress; saving sends ``todo.goal.progressed``."""
        with transaction.atomic():
            fresh = Goal.objects.select_for_update().get(pk=self.pk)
            fresh.progress += by
            fresh.save()
        self.progress = fresh.progress


class TodoStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class Todo(models.Model):
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todos",
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todos",
        verbose_name=_("team"),
    )
    goal = models.ForeignKey(
        Goal,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="todos",
        verbose_name=_("goal"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=TodoStatus.choices, default=TodoStatus.OPEN
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("todo")
        verbose_name_plural = _("todos")
        ordering = ["due_at", "pk"]  # noqa: RUF012
        indexes = [
            models.Index(
                fields=["due_at"],
                name="todo_open_due_idx",  # noqa: RUF012
                condition=Q(status="open"),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def complete(self, when: dt.datetime | None = None) -> None:
        """Mark done (sends ``todo.todo.completed``) and count it towards its goal."""
        if self.status == TodoStatus.DONE:
            return
        with transaction.atomic():
            self.status, self.done_at = TodoStatus.DONE, when or timezone.now()
            self.save()
            if self.goal_id is not None:
                self.goal.advance()
