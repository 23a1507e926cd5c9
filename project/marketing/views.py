"""The marketing dashboard and the A/B tests' tracked links."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from project.marketing import sending
from project.marketing.models import ABTest, CampaignReport, Post, PostStatus
from scheduler_app import policy
from scheduler_app.views import SchedulerPageMixin

MODULE_ID = "marketing"
#: Rows of each dashboard table.
ROWS = 10


def can_use_marketing(user: Any) -> bool:
    return policy.is_module_user(user, MODULE_ID) or policy.is_module_admin(user, MODULE_ID)


class DashboardView(SchedulerPageMixin, LoginRequiredMixin, TemplateView):
    """Posts by status, what is due to publish, the last campaign runs, A/B tests, next tasks."""

    template_name = "marketing/dashboard.html"
    title = gettext_lazy("Marketing dashboard")

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can_use_marketing(request.user):
            raise PermissionDenied(gettext_lazy("You may not use the marketing module."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        counts = dict(Post.objects.values_list("status").annotate(n=Count("pk")).order_by())
        tests = list(ABTest.objects.order_by("-created_at", "-pk")[:ROWS])
        next_tasks = (
            policy.viewable_queryset(self.request.user)
            .filter(module_id=MODULE_ID, enabled=True, next_run__isnull=False)
            .select_related("owner")
            .order_by("next_run", "pk")[:ROWS]
        )
        return super().get_context_data(
            title=self.title,
            post_counts=[(label, counts.get(value, 0)) for value, label in PostStatus.choices],
            upcoming=Post.objects.filter(status=PostStatus.APPROVED, publish_at__gte=timezone.now())
            .select_related("channel")
            .order_by("publish_at", "pk")[:ROWS],
            in_review=Post.objects.filter(status=PostStatus.IN_REVIEW)
            .select_related("author")
            .order_by("created_at", "pk")[:ROWS],
            reports=CampaignReport.objects.select_related("campaign")[:ROWS],
            tests=[(test, sending.scores(test)) for test in tests],
            next_tasks=list(next_tasks),
            **kwargs,
        )


dashboard = DashboardView.as_view()


def ab_click(request: HttpRequest, token: str) -> HttpResponse:
    """Count a click of an A/B mail's link for its variant, then go to the landing page."""
    if len(token) > 200:
        return HttpResponseNotFound("Unknown link.")
    recipient = sending.record_click(token, timezone.now())
    if recipient is None:
        return HttpResponseNotFound("Unknown link.")
    return HttpResponseRedirect(recipient.test.landing_url)
