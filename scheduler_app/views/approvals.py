"""Approval pages: the requests a person may decide or see, one request with its decision
form, and the confirmation page behind an e-mail's one-click link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from scheduler_app import services
from scheduler_app.models import AuditSource
from scheduler_app.services import approval_links, approvals, audit
from scheduler_app.views.pages import page_context, scheduler_page

PAGE_SIZE = 50


def _decide(request: HttpRequest, approval_id: int, decision: str) -> str | None:
    """Decide as the logged-in user from a POST; the error text, or None when done."""
    comment = request.POST.get("comment", "")
    decide = services.approve if decision == "approve" else services.reject
    try:
        done = decide(approval_id, user=request.user, comment=comment)
    except ValidationError as error:
        return " ".join(error.messages)
    messages.success(
        request,
        _("“%(title)s”: %(status)s.") % {"title": done.title, "status": done.get_status_display()},
    )
    return None


@scheduler_page
@login_required
@never_cache
def approval_list(request: HttpRequest) -> HttpResponse:
    """The requests the user may decide or see, newest first; ``?module=`` for one module's
    (a module's own page links here with its id)."""
    now = timezone.now()
    found = approvals.visible(request.user, now)
    module = request.GET.get("module", "")[:64]
    if module:
        found = approvals.for_module(found, module)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    # Of this page's requests only (all of a superuser's open requests could be many).
    decidable = set(
        approvals.decidable(request.user, now)
        .filter(pk__in=[approval.pk for approval in page])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "scheduler_app/approvals/list.html",
        {
            **page_context(request),
            "title": _("Approvals"),
            "page": page,
            "decidable": decidable,
            "module": module,
        },
    )


@scheduler_page
@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def approval_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One request: what it asks, who may decide, the decision; POST approves or rejects."""
    approval = approvals.visible(request.user).filter(pk=pk).first()
    if approval is None:
        raise Http404(_("No such approval."))
    error = None
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in approval_links.DECISIONS:
            error = _("Choose approve or reject.")
        else:
            error = _decide(request, approval.pk, decision)
            if error is None:
                return HttpResponseRedirect(reverse("scheduler_app:approval", args=[approval.pk]))
    return _render_detail(request, approval, error=error)


def _render_detail(
    request: HttpRequest, approval, *, error: str | None = None, decision: str = ""
) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "scheduler_app/approvals/detail.html",
        {
            **page_context(request),
            "title": approval.title,
            "approval": approval,
            "may_decide": approval.is_open and approvals.is_approver(request.user, approval, now),
            "approvers": approvals.describe_approvers(approval),
            "escalation": approvals.describe_approvers(approval, escalation=True)
            if approval.escalate_at
            else "",
            "error": error,
            "decision": decision,
            "list_url": reverse("scheduler_app:approvals"),
        },
        status=400 if error else 200,
    )


@scheduler_page
@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def approval_link(request: HttpRequest, token: str) -> HttpResponse:
    """An e-mail's one-click link: GET confirms (nothing changes), POST decides.

    The link must be signed, recent and sent to the logged-in person; the
    decision is then checked against the policy like any other.
    """
    try:
        claim, approval = approval_links.read_token(token, user=request.user)
    except ValidationError as refused:
        return render(
            request,
            "scheduler_app/approvals/link_invalid.html",
            {
                **page_context(request),
                "title": _("Approval link"),
                "reason": " ".join(refused.messages),
            },
            status=400,
        )
    if not approvals.may_view(request.user, approval):
        # As on the request's own page and in the API: what the person may no longer see
        # (the permission went after the e-mail was sent) is not shown, nor decided.
        raise Http404(_("No such approval."))
    error = None
    if request.method == "POST":
        with audit.acting_from(AuditSource.EMAIL):  # decided "by the e-mail link"
            error = _decide(request, approval.pk, claim.decision)
        if error is None:
            return HttpResponseRedirect(reverse("scheduler_app:approval", args=[approval.pk]))
    elif not approval.is_open:
        error = _("This request was already decided; the link cannot be used again.")
    return _render_detail(request, approval, error=error, decision=claim.decision)
