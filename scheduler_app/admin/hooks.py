"""Inbound webhooks in the admin: make a hook (its secret shown once), rotate, read the log.

Only scheduler admins manage hooks (a hook fires every task listening to its
event); users who may view every task read the delivery log. The rules live in
:mod:`scheduler_app.services.inbound_hooks`; this module only calls it, and imports it
where it does (a process that never serves the admin does not load it).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler_app import conf, policy
from scheduler_app.admin.read_only import ReadOnlyAdmin
from scheduler_app.admin.selection import CheckedSelectionAdmin
from scheduler_app.models import HookDelivery, InboundHook
from scheduler_app.presentation import display

SECRET_TEMPLATE = "admin/scheduler_app/inboundhook/secret.html"


class InboundHookForm(forms.ModelForm):
    class Meta:
        model = InboundHook
        fields = ("event", "description", "enabled")


def _show_secrets(
    request: HttpRequest, admin_site: admin.AdminSite, shown: list[tuple[InboundHook, str]]
) -> TemplateResponse:
    from scheduler_app.services import inbound_hooks

    # Rendered into this one response, never into a message (a message may travel in a cookie).
    return TemplateResponse(
        request,
        SECRET_TEMPLATE,
        {
            **admin_site.each_context(request),
            "title": _("New webhook secrets"),
            "shown": [
                (hook, secret, request.build_absolute_uri(hook_url(hook))) for hook, secret in shown
            ],
            "overlap": conf.get().HOOKS_SECRET_OVERLAP,
            "header": inbound_hooks.SIGNATURE_HEADER,
            "opts": InboundHook._meta,
        },
    )


def hook_url(hook: InboundHook) -> str:
    return reverse("scheduler_app:hook", kwargs={"event": hook.event})


@admin.register(InboundHook)
class InboundHookAdmin(CheckedSelectionAdmin):
    form = InboundHookForm
    list_display = ("event", "enabled", "masked_secret", "secret_made", "description")
    list_filter = ("enabled",)
    search_fields = ("event", "description")
    readonly_fields = ("masked_secret", "secret_made", "previous_until", "url")
    actions = ("rotate_secret",)

    def _admin(self, request: HttpRequest) -> bool:
        return policy.is_scheduler_admin(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._admin(request)

    @admin.display(description=gettext_lazy("secret"))
    def masked_secret(self, obj: InboundHook) -> str:
        return obj.masked_secret or _("none: rotate to make one")

    @admin.display(description=gettext_lazy("secret made"), ordering="rotated_at")
    def secret_made(self, obj: InboundHook) -> str:
        return display.format_when(obj.rotated_at) if obj.rotated_at else "—"

    @admin.display(description=gettext_lazy("previous secret accepted until"))
    def previous_until(self, obj: InboundHook) -> str:
        until = obj.previous_secret_until
        return display.format_when(until) if until and obj.previous_secret else "—"

    @admin.display(description=gettext_lazy("URL"))
    def url(self, obj: InboundHook) -> str:
        return hook_url(obj) if obj.pk else "—"

    def save_model(self, request: HttpRequest, obj: InboundHook, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        from scheduler_app.services import inbound_hooks

        hook, secret = inbound_hooks.create_hook(
            user=request.user,
            event=form.cleaned_data["event"],
            description=form.cleaned_data["description"],
            enabled=form.cleaned_data["enabled"],
        )
        obj.pk = hook.pk
        obj.secret = secret
        request._scheduler_new_secret = (hook, secret)  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: InboundHook, post_url_continue: Any = None
    ) -> HttpResponse:
        made = getattr(request, "_scheduler_new_secret", None)
        if made is None:
            return super().response_add(request, obj, post_url_continue)
        return _show_secrets(request, self.admin_site, [made])

    @admin.action(description=gettext_lazy("Rotate secret (the old one signs for the overlap)"))
    def rotate_secret(self, request: HttpRequest, queryset: Any) -> TemplateResponse:
        from scheduler_app.services import inbound_hooks

        # A bound on one page of secrets; the service asks the policy again for each hook.
        shown = [
            (hook, inbound_hooks.rotate_secret(hook, user=request.user))
            for hook in queryset.order_by("event")[:50]
        ]
        return _show_secrets(request, self.admin_site, shown)


@admin.register(HookDelivery)
class HookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "received",
        "event",
        "outcome",
        "status_code",
        "reason",
        "body_size",
        "remote_addr",
    )
    # By hook, not by the event as asked: refused requests may name any number of events.
    list_filter = ("outcome", "status_code", "hook")
    search_fields = ("event", "reason", "remote_addr")
    date_hierarchy = "received_at"
    list_select_related = ("hook",)
    readonly_fields = (
        "hook",
        "event",
        "received_at",
        "outcome",
        "status_code",
        "reason",
        "body_size",
        "remote_addr",
    )

    @admin.display(description=gettext_lazy("received"), ordering="received_at")
    def received(self, obj: HookDelivery) -> str:
        return display.format_when(obj.received_at)

    def may_view(self, request: HttpRequest) -> bool:
        return policy.can_view_all(request.user)
