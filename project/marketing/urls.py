from django.urls import path

from project.marketing import scheduling, views

app_name = "marketing"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("schedules/", scheduling.schedules, name="schedules"),
    path(
        "schedules/<slug:task_type>/new/",
        scheduling.MarketingScheduleView.as_view(),
        name="schedule",
    ),
    path("posts/<int:pk>/review/", views.send_for_review, name="send_for_review"),
    path("ab/<str:token>/", views.ab_click, name="ab_click"),
]
