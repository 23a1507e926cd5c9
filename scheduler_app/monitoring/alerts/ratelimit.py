"""At most one alert per key (kind and task) per ``RATE_LIMIT`` seconds, across processes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F

from scheduler_app.models import AlertState


def admit(key: str, now: dt.datetime, window: float) -> tuple[bool, int]:
    """Whether an alert of ``key`` may go out at ``now``, and how many were held back before it.

    A held-back alert is counted, so the next one that goes out can say so.
    """
    with transaction.atomic():
        state = AlertState.objects.select_for_update().filter(key=key).first()
        if state is None:
            try:
                with transaction.atomic():
                    AlertState.objects.create(key=key, last_sent_at=now)
            except IntegrityError:  # another scheduler sent it a moment ago
                AlertState.objects.filter(key=key).update(suppressed=F("suppressed") + 1)
                return False, 0
            return True, 0
        if window > 0 and now < state.last_sent_at + dt.timedelta(seconds=window):
            state.suppressed += 1
            state.save(update_fields=["suppressed"])
            return False, 0
        held_back = state.suppressed
        state.last_sent_at, state.suppressed = now, 0
        state.save(update_fields=["last_sent_at", "suppressed"])
        return True, held_back


def reset(key: str | None = None) -> None:
    """Forget when alerts were sent (all keys, or one)."""
    queryset = AlertState.objects.all() if key is None else AlertState.objects.filter(key=key)
    queryset.delete()


def recently_sent(keys: list[str], now: dt.datetime, window: float) -> set[str]:
    """The keys among ``keys`` whose alert went out less than ``window`` seconds ago (one query)."""
    if not keys or window <= 0:
        return set()
    since = now - dt.timedelta(seconds=window)
    return set(
        AlertState.objects.filter(key__in=keys, last_sent_at__gt=since).values_list(
            "key", flat=True
        )
    )
