"""The app config: owns the provider registry and autodiscovers providers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerConfig(AppConfig):
    name = "scheduler_app"
    verbose_name = _("Scheduler")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from scheduler_app import (  # noqa: F401 - wires the system checks
            checks,
            cron_check,
            url_checks,
        )
        from scheduler_app.policy import permissions  # noqa: F401 - wires post_migrate
        from scheduler_app.registry import registry

        self.registry = registry
        # As the admin does with admin.py: import every app's scheduler_tasks.
        registry.autodiscover()
        self._register_pass_hooks()

    def _register_pass_hooks(self) -> None:
        from scheduler_app.engine import hooks
        from scheduler_app.services import calendars, pause_windows

        hooks.register_before_pass(pause_windows.before_pass)
        hooks.register_slot_filter(pause_windows.blocked_slots)
        hooks.register_slot_filter(calendars.blocked_slots)
        from scheduler_app.monitoring import alerts

        alerts.wire()  # failure signals and after-pass checks (overdue tasks)
