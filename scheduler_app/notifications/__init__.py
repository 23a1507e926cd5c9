"""Notification channels: tell users about what a task found, by e-mail and in the app.

A task type lets its owner choose the channels in its config (add
:class:`ChannelsField`, or derive the config form from
:class:`NotificationConfigForm`) and sends through an :class:`Outbox`::

    class MeetingReminderForm(NotificationConfigForm):
        minutes_before = forms.IntegerField(initial=60)


    def execute(self, context):
        outbox = Outbox(context)
        for meeting in due_meetings:
            if outbox.send(meeting.attendees.all(), Message(subject=..., text=...)):
                meeting.mark_reminded()
        return outbox.result(f"Reminded {outbox.sent} meeting(s).")

A channel that fails makes ``outbox.result()`` a ``TaskResult.failure`` that
names the channel and the error; the run is retried like any failure, and the
in-app channel does not notify anyone twice for the same run.
"""

from scheduler_app.notifications.channels import (
    EMAIL,
    IN_APP,
    Channel,
    EmailChannel,
    InAppChannel,
    channel_choices,
    get_channel,
    register_channel,
)
from scheduler_app.notifications.delivery import NotificationError, Outbox, notify
from scheduler_app.notifications.forms import ChannelsField, NotificationConfigForm
from scheduler_app.notifications.messages import Message, Origin

__all__ = [
    "EMAIL",
    "IN_APP",
    "Channel",
    "ChannelsField",
    "EmailChannel",
    "InAppChannel",
    "Message",
    "NotificationConfigForm",
    "NotificationError",
    "Origin",
    "Outbox",
    "channel_choices",
    "get_channel",
    "notify",
    "register_channel",
]
