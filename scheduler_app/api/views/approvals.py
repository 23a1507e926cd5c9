"""approvals/: the requests you may decide or see; approve or reject one, with a comment.

The same policy as the admin and the pages (``services.approvals``): 404 for
a request you may not see, 403 for one you may see but not decide, 409 with a
JSON ``reason`` for one already decided or expired (nothing changes).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from scheduler_app import services
from scheduler_app.api.approvals import (
    ApprovalPageSerializer,
    ApprovalSerializer,
    DecisionRefusedSerializer,
    DecisionSerializer,
)
from scheduler_app.api.views.base import ApiMixin, BaseApiView, documented
from scheduler_app.models import Approval, ApprovalStatus
from scheduler_app.services import approvals

STATUS_FILTER = OpenApiParameter(
    "status",
    str,
    enum=list(ApprovalStatus.values),
    description="Only requests in this state (e.g. pending).",
)
MODULE_FILTER = OpenApiParameter(
    "module",
    str,
    description="Only requests of workflows started by a task of this module (its id).",
)
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number (from 1)."),
    OpenApiParameter("page_size", int, description="Rows per page."),
    STATUS_FILTER,
    MODULE_FILTER,
]


class ApprovalListView(ApiMixin, GenericAPIView):
    queryset = Approval.objects.none()
    serializer_class = ApprovalSerializer

    @documented(parameters=PAGE_PARAMETERS, responses=ApprovalPageSerializer)
    def get(self, request: Request) -> Response:
        """The approval requests you may decide or see, newest first, paginated."""
        now = timezone.now()
        found = approvals.visible(request.user, now)
        wanted = request.query_params.get("status")
        if wanted is not None:
            if wanted not in ApprovalStatus.values:
                raise ValidationError(
                    {"status": _("Choose one of: %(c)s.") % {"c": ", ".join(ApprovalStatus.values)}}
                )
            found = found.filter(status=wanted)
        module = request.query_params.get("module")
        if module:  # an empty filter filters nothing, as on the tasks list and the page
            if len(module) > 64 or not approvals.storable_text(module):
                raise ValidationError(
                    {"module": _("Send a module id: at most 64 characters, no NUL.")}
                )
            found = approvals.for_module(found, module)
        page = self.paginate_queryset(found)
        decidable = set(
            approvals.decidable(request.user, now)
            .filter(pk__in=[a.pk for a in page])
            .values_list("pk", flat=True)
        )
        data = ApprovalSerializer(page, many=True, context={"decidable": decidable}).data
        return self.get_paginated_response(data)


class DecisionView(BaseApiView):
    decision = "approve"

    def _visible(self, request: Request, pk: str) -> Approval:
        if not (pk.isascii() and pk.isdigit() and len(pk) <= 18):
            raise exceptions.NotFound(_("Not found."))
        approval = approvals.visible(request.user).filter(pk=int(pk)).first()
        if approval is None:
            raise exceptions.NotFound(_("Not found."))
        return approval

    @documented(
        request=DecisionSerializer,
        responses={
            200: ApprovalSerializer,
            409: OpenApiResponse(
                DecisionRefusedSerializer, description="Already decided, or expired."
            ),
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        """Decide the request as you: 403 unless you are one of its approvers."""
        approval = self._visible(request, pk)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decide = services.approve if self.decision == "approve" else services.reject
        try:
            done = decide(approval, user=request.user, comment=body.validated_data["comment"])
        except ValidationError as error:
            refused = [
                e
                for e in getattr(error, "error_dict", {}).get("approval", [])
                if e.code in ("decided", "expired")
            ]
            if not refused:
                raise
            approval.refresh_from_db()
            return Response(
                {
                    "detail": refused[0].messages[0],
                    "reason": refused[0].code,
                    "status": approval.status,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(ApprovalSerializer(done, context={"decidable": set()}).data)


class ApproveView(DecisionView):
    decision = "approve"


class RejectView(DecisionView):
    decision = "reject"
