from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TodoConfig(AppConfig):
    name = "project.todo"
    label = "todo"
    verbose_name = _("Todo")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from project.todo import events

        events.connect()
