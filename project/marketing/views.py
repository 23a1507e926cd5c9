"""The marketing dashboard and the A/B tests' tracked links."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from project.marketing import sending, workflow
from project.marketing.models import ABTest, CampaignReport, Post, PostStatus
from scheduler_app import policy
from scheduler_app.models import Approval, ApprovalStatus
from scheduler_app.presentation import links
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

    def review_rows(self) -> list[tuple[Post, str]]:
        """Posts in review, each with the page of its open approval request ("" if none)."""
        posts = list(
            Post.objects.filter(status=PostStatus.IN_REVIEW)
            .select_related("author")
            .order_by("created_at", "pk")[:ROWS]
        )
        open_requests = dict(
            Approval.objects.filter(
                task_id__in=[p.review_step_id for p in posts if p.review_step_id],
                status=ApprovalStatus.PENDING,
            ).values_list("task_id", "pk")
        )
        rows = []
        for post in posts:
            pk = open_requests.get(post.review_step_id)
            rows.append((post, links.reverse_or_empty("scheduler_app:approval", pk) if pk else ""))
        return rows

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
            in_review=self.review_rows(),
            drafts=Post.objects.filter(status__in=(PostStatus.DRAFT, PostStatus.REJECTED))
            .select_related("channel")
            .order_by("-updated_at", "-pk")[:ROWS],
            can_send=policy.can_schedule(self.request.user, MODULE_ID),
            reports=CampaignReport.objects.select_related("campaign")[:ROWS],
            tests=[(test, sending.scores(test)) for test in tests],
            next_tasks=list(next_tasks),
            **kwargs,
        )


dashboard = DashboardView.as_view()


@login_required
@require_POST
def send_for_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the post's content-approval workflow; back to the dashboard with what happened."""
    if not can_use_marketing(request.user):
        # Posts are the marketing module's: to anyone else none exists (as the policy answers).
        raise Http404("No such post.")
    post = get_object_or_404(Post, pk=pk)
    try:
        flow = workflow.start_content_approval(post, user=request.user)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or "You may not send posts for review.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{post.title}” was sent for review (step {flow.review.pk}).")
    return redirect("marketing:dashboard")


def ab_click(request: HttpRequest, token: str) -> HttpResponse:
    """Count a click of an A/B mail's link for its variant, then go to the landing page."""
    if len(token) > 200:
        return HttpResponseNotFound("Unknown link.")
    recipient = sending.record_click(token, timezone.now())
    if recipient is None:
        return HttpResponseNotFound("Unknown link.")
    return HttpResponseRedirect(recipient.test.landing_url)
