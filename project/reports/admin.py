from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from project.reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "period_days", "updated_at", "download_link")
    list_filter = ("source",)
    search_fields = ("name", "description")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=_("CSV"))
    def download_link(self, obj: Report) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("reports:download", args=[obj.pk]), _("Download")
        )
