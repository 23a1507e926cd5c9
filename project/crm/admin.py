from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from project.crm.models import Contact, Meeting, Opportunity, OpportunityStage


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "company", "email", "owner", "is_customer", "last_activity_at")
    list_filter = ("is_customer",)
    search_fields = ("name", "company", "email")
    list_select_related = ("owner",)


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("title", "contact", "owner", "stage", "amount", "last_activity_at")
    list_filter = ("stage",)
    search_fields = ("title", "contact__name")
    list_select_related = ("contact", "owner")
    actions = ["mark_won"]

    @admin.action(description=_("Mark won (sends crm.opportunity.won)"))
    def mark_won(self, request: HttpRequest, queryset) -> None:  # noqa: ANN001
        # One save each, not queryset.update(): the save sends the event.
        won = 0
        for opportunity in queryset.exclude(stage=OpportunityStage.WON):
            opportunity.mark_won()
            won += 1
        self.message_user(
            request, _("%(count)d opportunity(ies) marked won.") % {"count": won}, messages.SUCCESS
        )


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("title", "starts_at", "contact", "organizer", "location", "reminder_sent_at")
    search_fields = ("title", "contact__name")
    filter_horizontal = ("attendees",)
    list_select_related = ("contact", "organizer")
