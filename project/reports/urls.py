from django.urls import path

from project.reports import scheduling, views

app_name = "reports"

urlpatterns = [
    path("<int:pk>/download/", views.download, name="download"),
    path("schedules/", scheduling.schedules, name="schedules"),
    path(
        "schedules/<slug:task_type>/new/", scheduling.ReportScheduleView.as_view(), name="schedule"
    ),
]
