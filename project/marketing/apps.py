from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "project.marketing"
    label = "marketing"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from project.marketing.workflow import end_finished_flow
        from scheduler_app.signals import task_executed

        # A content flow's steps are cancelled when its workflow run ends.
        task_executed.connect(end_finished_flow, dispatch_uid="marketing.end_finished_flow")
