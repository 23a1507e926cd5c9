"""URLs of the demo project."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # "View site" of the admin: the scheduling pages (the modules' pages, notifications, feed).
    path("", RedirectView.as_view(pattern_name="scheduler_app:pages", permanent=False)),
    path("admin/", admin.site.urls),
    path("scheduler/", include("scheduler_app.urls")),
    path("api/scheduler/", include("scheduler_app.api.urls")),
    path("reports/", include("project.reports.urls")),
    path("crm/", include("project.crm.urls")),
    path("todo/", include("project.todo.urls")),
    path("marketing/", include("project.marketing.urls")),
    path("notifications/", include("scheduler_app.notifications.urls")),
]
