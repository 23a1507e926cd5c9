from django.urls import path

from project.todo import scheduling

app_name = "todo"

urlpatterns = [
    path("schedules/", scheduling.schedules, name="schedules"),
]
