from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from project.todo.models import Goal, TeamMember, Todo, TodoStatus


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "manager", "team")
    list_select_related = ("user", "manager", "team")


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "team", "progress", "target", "due_date", "last_milestone")
    list_select_related = ("owner", "team")


@admin.register(Todo)
class TodoAdmin(admin.ModelAdmin):
    list_display = ("title", "assignee", "team", "status", "due_at", "goal")
    list_filter = ("status", "team")
    search_fields = ("title",)
    list_select_related = ("assignee", "team", "goal")
    actions = ["complete"]

    @admin.action(description=_("Mark done (sends todo.todo.completed)"))
    def complete(self, request: HttpRequest, queryset) -> None:  # noqa: ANN001
        done = 0
        for todo in queryset.filter(status=TodoStatus.OPEN).select_related("goal"):
            todo.complete()
            done += 1
        self.message_user(
            request, _("%(count)d todo(s) marked done.") % {"count": done}, messages.SUCCESS
        )
