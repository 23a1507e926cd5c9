"""Config forms of the marketing task types."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from project.marketing.models import ABTest, Campaign, Post
from scheduler_app.notifications import NotificationConfigForm

BATCH_HELP = _("Messages sent per batch; deliveries are recorded after each batch.")


def batch_size_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("Batch size"), min_value=1, max_value=1000, initial=100, help_text=BATCH_HELP
    )


class PublishPostForm(forms.Form):
    post = forms.ModelChoiceField(
        label=_("Post"),
        # Every post, so a run after publishing still finds it (and says it is done).
        queryset=Post.objects.all(),
        help_text=_(
            "Published on its channel when the task runs (not before its “publish at”), "
            "once it is approved."
        ),
    )
    review_step = forms.IntegerField(
        label=_("Review step"),
        required=False,
        min_value=1,
        help_text=_(
            "In a content-approval workflow: the id of the approval step whose decision "
            "approves or rejects the post. Empty: the post must be approved already."
        ),
    )


class SubmitForReviewForm(forms.Form):
    post = forms.ModelChoiceField(
        label=_("Post"),
        queryset=Post.objects.all(),
        help_text=_("A draft (or rejected) post, moved to “in review”."),
    )


class EmailCampaignForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.all())
    batch_size = batch_size_field()
    max_per_run = forms.IntegerField(
        label=_("At most per run"),
        min_value=1,
        max_value=100_000,
        initial=10_000,
        help_text=_("The rest waits for the next run; no subscriber gets the campaign twice."),
    )


class ABSendVariantsForm(forms.Form):
    test = forms.ModelChoiceField(label=_("A/B test"), queryset=ABTest.objects.all())
    batch_size = batch_size_field()


class ABPickWinnerForm(forms.Form):
    test = forms.ModelChoiceField(label=_("A/B test"), queryset=ABTest.objects.all())
    batch_size = batch_size_field()


class ContentReportForm(NotificationConfigForm):
    days = forms.IntegerField(
        label=_("Period (days)"),
        min_value=1,
        max_value=366,
        initial=7,
        help_text=_("Report the posts, campaigns and A/B tests of this many past days."),
    )
    post = forms.ModelChoiceField(
        label=_("About a post"),
        queryset=Post.objects.all(),
        required=False,
        help_text=_("In a content-approval workflow: the post it reports on."),
    )

    field_order = ("days", "post", "channels")
