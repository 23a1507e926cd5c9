from django.urls import path

from project.reports import views

app_name = "reports"

urlpatterns = [
    path("<int:pk>/download/", views.download, name="download"),
]
