"""Calendar feed: a user's upcoming runs as iCalendar, behind a revocable secret link.

A token is shown once, when it is made; only its SHA-256 digest is stored.
Making a new one revokes the old one, so a leaked link is cut off by making
a new link or by revoking it. The feed holds what
``policy.viewable_queryset`` lets the token's user see, at the time of each
request (a permission taken away is gone from the next refresh).

Example::

    token, raw = feeds.issue_token(user)
    url = reverse("scheduler_app:feed", args=[raw])
    body = feeds.render_feed(feeds.user_for_token(raw))
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import FeedToken, ScheduledTask, TaskStatus
from scheduler_app.services import calendars

#: How far ahead the feed looks, how many runs of one task it lists, and in all.
HORIZON = dt.timedelta(days=14)
PER_TASK = 50
MAX_EVENTS = 2000
#: The length a run is shown with in calendar applications.
EVENT_LENGTH = dt.timedelta(minutes=15)


#: ``last_used_at`` of a feed token is written at most this often, not on every refresh.
TOUCH_EVERY = dt.timedelta(minutes=5)


def issue_token(user: Any) -> tuple[FeedToken, str]:
    """Make a new feed token for ``user`` (revoking their others); returns it and the secret."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Sign in to get a calendar feed."))
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        FeedToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        token = FeedToken.create_for_secret(raw, user=user, created_at=now)
    return token, raw


def revoke(user: Any) -> int:
    """Revoke every feed token of ``user``; returns how many were active."""
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def revoke_tokens(queryset: Any, *, user: Any) -> int:
    """Revoke the tokens in ``queryset``: one's own, or anyone's for a scheduler admin."""
    if not policy.is_scheduler_admin(user):
        queryset = queryset.filter(user=user)
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


def active_token(user: Any) -> FeedToken | None:
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


def user_for_token(raw: str) -> Any | None:
    """The active user behind an unrevoked token, or None."""
    token = FeedToken.find_active(raw, now=timezone.now(), touch_every=TOUCH_EVERY)
    return token.user if token is not None else None


def upcoming(
    user: Any, *, now: dt.datetime | None = None
) -> list[tuple[ScheduledTask, dt.datetime, str | None]]:
    """(task, run, blackout note) for ``user``'s viewable tasks within the horizon, by time."""
    now = now or timezone.now()
    until = now + HORIZON
    tasks = (
        policy.viewable_queryset(user)
        .filter(
            enabled=True,
            status__in=(TaskStatus.PENDING, TaskStatus.RUNNING),
            next_run__isnull=False,
            next_run__lte=until,
        )
        .order_by("next_run", "pk")[:MAX_EVENTS]
    )
    planned: list[tuple[ScheduledTask, list[dt.datetime]]] = []
    for task in tasks:
        runs = [task.next_run]
        try:
            runs += task.schedule.runs_after(
                task.next_run, PER_TASK - 1, anchor=task.run_at or task.created_at
            )
        except Exception:  # noqa: BLE001 - a broken schedule shows its next run only
            pass
        planned.append((task, [r for r in runs if r <= until][:PER_TASK]))
    notes = calendars.blackout_notes_for(planned)
    found: list[tuple[ScheduledTask, dt.datetime, str | None]] = []
    for task, runs in planned:
        found.extend((task, run, notes.get((task.pk, run))) for run in runs)
    found.sort(key=lambda item: (item[1], item[0].pk))
    return found[:MAX_EVENTS]


def render_feed(user: Any, *, now: dt.datetime | None = None, link: Any = None) -> bytes:
    """The iCalendar document of ``user``'s upcoming runs. ``link(task)`` gives each task's URL."""
    import icalendar

    now = now or timezone.now()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//scheduler_app//calendar feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Scheduled tasks"))
    for task, run, note in upcoming(user, now=now):
        event = icalendar.Event()
        event.add("uid", f"task-{task.pk}-{run:%Y%m%dT%H%M%SZ}@scheduler_app")
        event.add("dtstamp", now)
        event.add("dtstart", run)
        event.add("dtend", run + EVENT_LENGTH)
        event.add(
            "summary", task.name if not note else _("%(name)s (skipped)") % {"name": task.name}
        )
        lines = [f"{task.module_id}.{task.task_type}", task.describe_schedule()]
        if note:
            lines.append(note)
            event.add("status", "CANCELLED")
        event.add("description", "\n".join(lines))
        event.add("categories", [task.module_id])
        if link is not None:
            event.add("url", link(task))
        cal.add_component(event)
    return cal.to_ical()
