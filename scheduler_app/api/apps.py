"""The app config of the HTTP API: its own label, so its token table is optional too."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerApiConfig(AppConfig):
    name = "scheduler_app.api"
    label = "scheduler_api"
    verbose_name = _("Scheduler API")
    default_auto_field = "django.db.models.BigAutoField"
