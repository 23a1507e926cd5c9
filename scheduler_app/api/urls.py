"""The API's URLs: ``path("api/scheduler/", include("scheduler_app.api.urls"))``."""

from __future__ import annotations

from typing import Any

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

import scheduler_app
from scheduler_app.api import schema
from scheduler_app.api.views.approvals import ApprovalListView, ApproveView, RejectView
from scheduler_app.api.views.base import not_found
from scheduler_app.api.views.cron import CronValidateView
from scheduler_app.api.views.modules import ModulesView
from scheduler_app.api.views.monitoring import StatsView, StatusView
from scheduler_app.api.views.runs import RunDetailView
from scheduler_app.api.views.tasks import TaskViewSet

app_name = "scheduler_api"


class Router(SimpleRouter):
    # Any id reaches the view, which answers 404 in JSON for one that is not a number.
    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        return r"(?P<pk>[^/]+)"


router = Router()
router.register("tasks", TaskViewSet, basename="task")

api_urlpatterns = [
    *router.urls,
    path("runs/<str:pk>/", RunDetailView.as_view(), name="run-detail"),
    path("modules/", ModulesView.as_view(), name="modules"),
    path("cron/validate/", CronValidateView.as_view(), name="cron-validate"),
    path("status/", StatusView.as_view(), name="status"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("approvals/", ApprovalListView.as_view(), name="approvals"),
    path("approvals/<str:pk>/approve/", ApproveView.as_view(), name="approval-approve"),
    path("approvals/<str:pk>/reject/", RejectView.as_view(), name="approval-reject"),
]

DESCRIPTION = (
    "Schedule, change, run and watch scheduler_app tasks. Authenticate with the admin's "
    "session (send the CSRF token on writes) or `Authorization: Token <secret>`. Every "
    "answer follows the scheduler's permission policy: 404 for a task you may not see, "
    "403 (with the reason) for an action you may not take."
)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema of this API only (public: it describes, it holds no data)."""

    permission_classes: list[Any] = []
    authentication_classes: list[Any] = []
    patterns = api_urlpatterns

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Paths are relative to where the project mounted the API; the server URL says where.
        prefix = request.path[: -len("schema/")].rstrip("/")
        self.custom_settings = {
            "TITLE": "scheduler_app API",
            "DESCRIPTION": DESCRIPTION,
            "VERSION": scheduler_app.__version__,
            "SERVERS": [{"url": prefix or "/"}],
            "SCHEMA_PATH_PREFIX": "",
            "COMPONENT_SPLIT_REQUEST": True,
            "ENUM_NAME_OVERRIDES": schema.ENUM_NAME_OVERRIDES,
        }
        return super().get(request, *args, **kwargs)


urlpatterns = [
    *api_urlpatterns,
    path("schema/", SchemaView.as_view(), name="schema"),
    re_path(r"^", not_found),  # last: anything else under the API is a JSON 404
]
