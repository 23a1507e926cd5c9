"""Tokens in the admin: make one (the secret is shown once), list and revoke them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scheduler_app import policy
from scheduler_app.api import tokens
from scheduler_app.api.models import ApiToken


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "scope")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ("prefix", "name", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope",)
    search_fields = ("name", "prefix", "user__username")
    raw_id_fields = ("user",)
    actions = ("revoke_tokens",)

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset = super().get_queryset(request).select_related("user")
        if policy.is_scheduler_admin(request.user):
            return queryset
        return queryset.filter(user=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        # A token never changes once made: revoke it and make another.
        if obj is not None:
            return ("user", "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at")
        return ()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"user": request.user.pk}

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return
        owner = form.cleaned_data["user"]
        if owner.pk != request.user.pk and not policy.is_scheduler_admin(request.user):
            messages.error(request, _("Only scheduler administrators make tokens for others."))
            return
        token, secret = tokens.issue(
            owner, scope=form.cleaned_data["scope"], name=form.cleaned_data["name"]
        )
        obj.pk = token.pk
        messages.warning(
            request,
            _("The token's secret, shown this once: %(secret)s — copy it now.")
            % {"secret": secret},
        )

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: Any = None):  # noqa: ANN201
        if obj.pk is None:
            return self.response_post_save_add(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def delete_model(self, request: HttpRequest, obj: ApiToken) -> None:
        tokens.revoke(ApiToken.objects.filter(pk=obj.pk), user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        tokens.revoke(queryset, user=request.user)

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke_tokens(self, request: HttpRequest, queryset: Any) -> None:
        count = tokens.revoke(queryset, user=request.user)
        messages.success(request, _("Revoked %(count)d token(s).") % {"count": count})
