"""The app config: owns the provider registry and autodiscovers providers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerConfig(AppConfig):
    name = "scheduler_app"
    verbose_name = _("Scheduler")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from scheduler_app import checks  # noqa: F401 - wires the system checks
        from scheduler_app.policy import permissions  # noqa: F401 - wires post_migrate
        from scheduler_app.registry import registry

        self.registry = registry
        # As the admin does with admin.py: import every app's scheduler_tasks.
        registry.autodiscover()
        self._register_pass_hooks()
        self._wire_wake_ups()
        self._preload_hand_off()

    def _preload_hand_off(self) -> None:
        from scheduler_app import conf

        # Queue workers that fork per job (RQ's work-horses) would otherwise import the
        # hand-off and the engine in every job: import them once, before the fork. Binding
        # the task to its backend registers it where the backend needs it (Celery's app).
        if conf.get().EXECUTION == "tasks":
            from scheduler_app.engine import handoff

            handoff.prepare()

    def _wire_wake_ups(self) -> None:
        from django.db.models.signals import post_save

        from scheduler_app.engine import wake
        from scheduler_app.models import ScheduledTask

        # A task saved due now (run now, created due, resumed) wakes sleeping daemons.
        post_save.connect(wake.on_task_saved, sender=ScheduledTask, dispatch_uid="scheduler-wake")

    def _register_pass_hooks(self) -> None:
        from scheduler_app.engine import hooks
        from scheduler_app.services import calendars, pause_windows

        hooks.register_before_pass(pause_windows.before_pass)
        hooks.register_slot_filter(pause_windows.blocked_slots)
        hooks.register_slot_filter(calendars.blocked_slots)
        from scheduler_app.monitoring import alerts

        alerts.wire()  # failure signals and after-pass checks (overdue tasks)
