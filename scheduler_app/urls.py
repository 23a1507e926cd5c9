"""URLs of the scheduling pages: include with ``path("scheduler/", include("scheduler_app.urls"))``."""

from django.urls import path

from scheduler_app import views
from scheduler_app.views import feed, health, interrupt

app_name = "scheduler_app"

urlpatterns = [
    path("preview/", views.schedule_preview, name="preview"),
    path("health/", health.health, name="health"),
    path("runs/<int:log_id>/stop/", interrupt.stop_run, name="stop_run"),
    path("feed/", feed.feed_settings, name="feed_settings"),
    path("feed/<str:token>.ics", feed.calendar_feed, name="feed"),
    path("task/<int:pk>/edit/", views.EditTaskView.as_view(), name="edit"),
    path("<slug:module>/<slug:task_type>/new/", views.ScheduleTaskView.as_view(), name="new"),
]
