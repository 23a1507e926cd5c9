from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "project.marketing"
    label = "marketing"
    verbose_name = _("Marketing")
    default_auto_field = "django.db.models.BigAutoField"
