"""The channels a notification can travel by: ``email`` and ``in_app``, plus registered ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from scheduler_app.exceptions import NotRegistered

if TYPE_CHECKING:
    from scheduler_app.notifications.messages import Message, Origin

EMAIL = "email"
IN_APP = "in_app"


class Channel:
    """One way to deliver a message. ``send`` raises on failure; it never half-hides one."""

    name: ClassVar[str] = ""
    label: ClassVar[Any] = ""

    def send(self, recipients: Sequence[Any], message: Message, origin: Origin) -> int:
        """Deliver ``message`` to ``recipients`` (users or e-mail addresses); return how many got it."""
        raise NotImplementedError


class EmailChannel(Channel):
    """One e-mail per address (text and HTML), through Django's e-mail backend."""

    name = EMAIL
    label = _("E-mail")

    def send(self, recipients: Sequence[Any], message: Message, origin: Origin) -> int:
        addresses = _addresses(recipients)
        if not addresses:
            return 0
        html = message.html or render_to_string(
            "scheduler_app/notifications/email.html", {"message": message, "origin": origin}
        )
        text = render_to_string(
            "scheduler_app/notifications/email.txt", {"message": message, "origin": origin}
        )
        sent = 0
        for address in addresses:
            # One message each: recipients do not see each other's addresses.
            mail = EmailMultiAlternatives(
                # A header holds one line: a line break in a subject (a title typed by a
                # person) would make the mail fail to send, so it is read as a space.
                subject=" ".join(message.subject.split()),
                body=text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[address],
            )
            mail.attach_alternative(html, "text/html")
            sent += mail.send()
        return sent


class InAppChannel(Channel):
    """A Notification row per user; users read them on the notifications page."""

    name = IN_APP
    label = _("In the app")

    def send(self, recipients: Sequence[Any], message: Message, origin: Origin) -> int:
        from scheduler_app.models import Notification

        users = {r.pk: r for r in recipients if getattr(r, "pk", None) is not None}
        if not users:
            return 0
        key = origin.delivery_key(message)
        if key:
            done = set(
                Notification.objects.filter(
                    dedupe_key=key, recipient_id__in=list(users)
                ).values_list("recipient_id", flat=True)
            )
        else:
            done = set()
        rows = [
            Notification(
                recipient_id=pk,
                subject=message.subject[:200],
                body=message.text,
                url=message.url[:500],
                level=message.level,
                task_id=origin.task_id,
                module_id=origin.module_id,
                dedupe_key=key,
            )
            for pk in users
            if pk not in done
        ]
        Notification.objects.bulk_create(rows)
        return len(users)


def _addresses(recipients: Sequence[Any]) -> list[str]:
    seen: dict[str, str] = {}
    for recipient in recipients:
        address = recipient if isinstance(recipient, str) else getattr(recipient, "email", "")
        address = (address or "").strip()
        if address:
            seen.setdefault(address.lower(), address)
    return list(seen.values())


_channels: dict[str, Channel] = {EMAIL: EmailChannel(), IN_APP: InAppChannel()}


def register_channel(channel: Channel) -> Channel:
    """Add (or replace) a channel, e.g. a chat webhook; it shows in every ChannelsField."""
    if not channel.name:
        raise ValueError("A notification channel needs a name.")
    _channels[channel.name] = channel
    return channel


def get_channel(name: str) -> Channel:
    try:
        return _channels[name]
    except KeyError:
        known = ", ".join(sorted(_channels))
        raise NotRegistered(f"Unknown notification channel '{name}' (known: {known}).") from None


def channel_choices() -> list[tuple[str, Any]]:
    return [(name, channel.label or name) for name, channel in _channels.items()]
