"""URLs of the scheduling pages: include with ``path("scheduler/", include("scheduler_app.urls"))``."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from scheduler_app import views
from scheduler_app.views import approvals, feed, health, hooks, interrupt, live

app_name = "scheduler_app"

urlpatterns = [
    path("", views.SchedulingPagesView.as_view(), name="pages"),
    # Log-out for users who are not staff (the admin's takes staff only).
    path("logout/", LogoutView.as_view(), name="logout"),
    path("preview/", views.schedule_preview, name="preview"),
    path("health/", health.health, name="health"),
    path("runs/<int:log_id>/stop/", interrupt.stop_run, name="stop_run"),
    # Inbound webhooks; the event names a hook (see docs/webhooks.md).
    path("hooks/<str:event>/", hooks.receive, name="hook"),
    path("live/runs/<int:log_id>/", live.live_run, name="live_run"),
    path("live/tasks/<int:pk>/", live.live_task, name="live_task"),
    path("live/running/", live.live_running, name="live_running"),
    path("feed/", feed.feed_settings, name="feed_settings"),
    path("feed/<str:token>.ics", feed.calendar_feed, name="feed"),
    path("approvals/", approvals.approval_list, name="approvals"),
    path("approvals/<int:pk>/", approvals.approval_detail, name="approval"),
    path("approvals/link/<str:token>/", approvals.approval_link, name="approval_link"),
    path("task/<int:pk>/edit/", views.EditTaskView.as_view(), name="edit"),
    path("task/<int:pk>/run/", views.run_task_now, name="run_now"),
    path("<slug:module>/<slug:task_type>/new/", views.ScheduleTaskView.as_view(), name="new"),
]
