"""The app config of the HTTP task module (its provider is autodiscovered from scheduler_tasks)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HttpTaskConfig(AppConfig):
    name = "scheduler_app.contrib.http"
    label = "scheduler_http"
    verbose_name = _("Scheduler: HTTP requests")
