from django.urls import path

from project.crm import scheduling

app_name = "crm"

urlpatterns = [
    path("schedules/", scheduling.schedules, name="schedules"),
    path("schedules/<slug:task_type>/new/", scheduling.CrmScheduleView.as_view(), name="schedule"),
]
