"""The Todo module's own page of its scheduled tasks, built on scheduler_app's views."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from scheduler_app.views import ModuleTasksView

MODULE_ID = "todo"


class TodoTasksView(ModuleTasksView):
    """The todo tasks the user may see; new ones use scheduler_app's scheduling form."""

    module_id = MODULE_ID
    table_id = "todo-schedules"
    title = gettext_lazy("Todo schedules")
    denied_message = gettext_lazy("You may not use the Todo module.")


schedules = TodoTasksView.as_view()
