"""Include with ``path("notifications/", include("scheduler_app.notifications.urls"))``."""

from django.urls import path

from scheduler_app.notifications import views

app_name = "scheduler_notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.mark_read, name="read_all"),
    path("<int:pk>/read/", views.mark_read, name="read"),
]
