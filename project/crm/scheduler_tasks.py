"""The schedulable tasks of the CRM module (autodiscovered by scheduler_app)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from project.crm.forms import (
    AnnounceWinForm,
    FollowUpForm,
    MeetingReminderForm,
    ReengageInactiveForm,
)
from project.crm.models import Contact, Meeting, Opportunity, OpportunityStage
from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register
from scheduler_app.context import TaskContext
from scheduler_app.notifications import Message, Outbox


def _local(when: dt.datetime, context: TaskContext) -> str:
    return timezone.localtime(when, ZoneInfo(context.timezone or "UTC")).strftime(
        "%Y-%m-%d %H:%M %Z"
    )


def _by_owner(rows: Iterable[Any]) -> dict[Any, list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.owner].append(row)
    return grouped


class MeetingReminder(SchedulableTask):
    name = "Meeting reminder"
    description = (
        "Remind the attendees of each meeting shortly before it starts (once per meeting)."
    )
    config_form = MeetingReminderForm

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        soon = now + dt.timedelta(minutes=context.config["minutes_before"])
        meetings = (
            Meeting.objects.filter(
                reminder_sent_at__isnull=True, starts_at__gt=now, starts_at__lte=soon
            )
            .select_related("contact", "organizer")
            .prefetch_related("attendees")
        )
        outbox = Outbox(context)
        reminded = []
        meetings = list(meetings)
        for done, meeting in enumerate(meetings):
            context.progress(done, len(meetings), f"Reminding about “{meeting.title}”")
            people = [*meeting.attendees.all(), meeting.organizer]
            where = f" ({meeting.location})" if meeting.location else ""
            with_whom = f" with {meeting.contact}" if meeting.contact else ""
            message = Message(
                subject=f"Reminder: {meeting.title} at {_local(meeting.starts_at, context)}",
                text=f"“{meeting.title}”{with_whom} starts at {_local(meeting.starts_at, context)}"
                f"{where}.",
                key=f"meeting-{meeting.pk}",
            )
            if outbox.send(people, message):
                reminded.append(meeting.pk)
        Meeting.objects.filter(pk__in=reminded).update(reminder_sent_at=now)
        return outbox.result(
            f"Reminded the attendees of {len(reminded)} meeting(s).", data={"meetings": reminded}
        )

    def describe_result(self, data: Any) -> list[tuple[str, Any]]:
        # The run page names the meetings, not their ids.
        if not isinstance(data, dict) or not isinstance(data.get("meetings"), list):
            return super().describe_result(data)
        titles = dict(Meeting.objects.filter(pk__in=data["meetings"]).values_list("pk", "title"))
        return [("Meetings", [titles.get(pk, f"#{pk} (deleted)") for pk in data["meetings"]])]


class FollowUp(SchedulableTask):
    name = "Follow up quiet opportunities"
    description = "Nudge owners of open opportunities that have gone quiet for N days."
    config_form = FollowUpForm

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        days = context.config["quiet_days"]
        quiet = (
            Opportunity.objects.filter(
                stage=OpportunityStage.OPEN,
                owner__isnull=False,
                last_activity_at__lt=now - dt.timedelta(days=days),
            )
            .filter(
                Q(follow_up_sent_at__isnull=True) | Q(follow_up_sent_at__lt=F("last_activity_at"))
            )
            .select_related("owner", "contact")
            .order_by("last_activity_at", "pk")
        )
        outbox = Outbox(context)
        nudged: list[int] = []
        owners = _by_owner(quiet)
        for done, (owner, opportunities) in enumerate(owners.items()):
            context.progress(done, len(owners), f"Writing to {owner}")
            lines = [
                f"- {o.title} ({o.contact}): quiet for {(now - o.last_activity_at).days} days"
                for o in opportunities
            ]
            message = Message(
                subject=f"Follow up: {len(opportunities)} quiet opportunit"
                f"{'y' if len(opportunities) == 1 else 'ies'}",
                text="These open opportunities have had no activity:\n" + "\n".join(lines),
                key="follow-up-" + ",".join(str(o.pk) for o in opportunities),
            )
            if outbox.send([owner], message):
                nudged.extend(o.pk for o in opportunities)
        Opportunity.objects.filter(pk__in=nudged).update(follow_up_sent_at=now)
        return outbox.result(
            f"Nudged about {len(nudged)} quiet opportunit{'y' if len(nudged) == 1 else 'ies'}.",
            data={"opportunities": nudged},
        )


class ReengageInactive(SchedulableTask):
    name = "Re-engage inactive customers"
    description = (
        "Conditional: when customers have had no activity for N days, hand them to "
        "their account owners (once per inactive spell)."
    )
    config_form = ReengageInactiveForm

    def inactive(self, context: TaskContext) -> QuerySet[Contact]:
        cutoff = timezone.now() - dt.timedelta(days=context.config["inactive_days"])
        return Contact.objects.filter(
            is_customer=True, owner__isnull=False, last_activity_at__lt=cutoff
        ).filter(
            Q(reengage_requested_at__isnull=True)
            | Q(reengage_requested_at__lt=F("last_activity_at"))
        )

    def condition(self, context: TaskContext) -> bool:
        return self.inactive(context).exists()

    def execute(self, context: TaskContext) -> TaskResult:
        now = timezone.now()
        outbox = Outbox(context)
        handed: list[int] = []
        contacts = self.inactive(context).select_related("owner").order_by("last_activity_at", "pk")
        owners = _by_owner(contacts)
        for done, (owner, customers) in enumerate(owners.items()):
            context.progress(done, len(owners), f"Writing to {owner}")
            lines = [
                f"- {c}: last activity {_local(c.last_activity_at, context)}" for c in customers
            ]
            message = Message(
                subject=f"Re-engage {len(customers)} inactive customer(s)",
                text="No activity for a while with:\n" + "\n".join(lines),
                key="reengage-" + ",".join(str(c.pk) for c in customers),
            )
            if outbox.send([owner], message):
                handed.extend(c.pk for c in customers)
        Contact.objects.filter(pk__in=handed).update(reengage_requested_at=now)
        return outbox.result(
            f"Handed {len(handed)} inactive customer(s) to their owners.", data={"contacts": handed}
        )


class AnnounceWin(SchedulableTask):
    name = "Announce a won opportunity"
    description = (
        "For an event task on “crm.opportunity.won”: tell the owner and a team about the win."
    )
    config_form = AnnounceWinForm

    def execute(self, context: TaskContext) -> TaskResult:
        pk = context.payload.get("opportunity")
        if pk is None:
            return TaskResult.failure(
                "No opportunity in the event payload: schedule this task on "
                "the “crm.opportunity.won” event.",
                retry=False,
            )
        won = Opportunity.objects.select_related("owner", "contact").filter(pk=pk).first()
        if won is None:
            return TaskResult.success(f"Opportunity {pk} no longer exists; nothing to announce.")
        team = context.config.get("team")
        people: list[Any] = [won.owner]
        if team is not None:
            people.extend(get_user_model().objects.filter(groups=team, is_active=True))
        who = won.owner.get_username() if won.owner else "the team"
        outbox = Outbox(context)
        outbox.send(
            people,
            Message(
                subject=f"Won: {won.title}",
                text=f"{who} won “{won.title}” with {won.contact} for {won.amount}.",
                key=f"won-{won.pk}",
            ),
        )
        return outbox.result(f"Announced the win of “{won.title}”.", data={"opportunity": won.pk})


@register
class CrmProvider(TaskProvider):
    module_id = "crm"
    name = "CRM"
    base_permission = "SA_CRM"
    page_url_name = "crm:schedules"
    task_types: ClassVar[dict[str, type[SchedulableTask]]] = {
        "meeting_reminder": MeetingReminder,
        "follow_up": FollowUp,
        "reengage_inactive": ReengageInactive,
        "announce_win": AnnounceWin,
    }
