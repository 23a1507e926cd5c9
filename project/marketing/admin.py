from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from project.marketing.models import (
    ABRecipient,
    ABTest,
    Campaign,
    CampaignReport,
    Channel,
    Post,
    Subscriber,
)


class ChannelForm(forms.ModelForm):
    # The token is a credential: never rendered back; left empty, the stored one is kept.
    auth_token = forms.CharField(
        label=_("access token"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("HTTP adapter only. Leave empty to keep the stored token."),
    )
    clear_token = forms.BooleanField(label=_("remove the stored token"), required=False)

    class Meta:
        model = Channel
        fields = ("name", "kind", "target", "auth_token", "enabled")

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("auth_token") and not cleaned.get("clear_token") and self.instance.pk:
            stored = Channel.objects.filter(pk=self.instance.pk).values_list(
                "auth_token", flat=True
            )
            self.instance.auth_token = cleaned["auth_token"] = stored.first() or ""
        return cleaned


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "kind", "target", "token", "enabled")
    list_filter = ("kind", "enabled")

    @admin.display(description=_("access token"))
    def token(self, obj: Channel) -> str:
        # Only its first characters: the token is a credential.
        return f"{obj.auth_token[:4]}••••" if obj.auth_token else "—"


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "channel", "status", "publish_at", "published_at", "author")
    list_filter = ("status", "channel")
    search_fields = ("title", "text")
    list_select_related = ("channel", "author")
    readonly_fields = (
        "published_at",
        "published_ref",
        "last_error",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
    )


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "subscribed", "created_at")
    list_filter = ("subscribed",)
    search_fields = ("email", "name")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "subject", "created_by", "created_at")
    search_fields = ("name", "subject")


@admin.register(CampaignReport)
class CampaignReportAdmin(admin.ModelAdmin):
    list_display = ("campaign", "started_at", "sent", "failed", "already_sent", "left", "batches")
    list_select_related = ("campaign",)

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False

    def has_change_permission(self, request, obj=None):  # noqa: ANN001, ANN201
        return False


@admin.register(ABTest)
class ABTestAdmin(admin.ModelAdmin):
    list_display = ("name", "test_share", "split_a", "variants_sent_at", "winner", "decided_at")
    readonly_fields = ("variants_sent_at", "winner", "decided_at")


@admin.register(ABRecipient)
class ABRecipientAdmin(admin.ModelAdmin):
    list_display = ("test", "subscriber", "variant", "in_test", "sent_at", "clicked_at")
    list_filter = ("variant", "in_test")
    list_select_related = ("test", "subscriber")

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False
