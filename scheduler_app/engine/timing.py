"""Slot arithmetic for the engine: next slots, missed slots, retry backoff."""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from operator import itemgetter

from scheduler_app import schedules
from scheduler_app.schedules import CONDITIONAL, CRON, RECURRING, Schedule

REPEATING = (CRON, RECURRING, CONDITIONAL)


_schedule_columns = itemgetter(*schedules.COLUMNS)


def schedule_of(row: dict) -> Schedule:
    try:
        return _schedule(_schedule_columns(row))
    except (KeyError, TypeError):  # a row without every column, an unhashable value
        return Schedule.from_columns(row)


@lru_cache(maxsize=4096)
def _schedule(key: tuple) -> Schedule:
    # The tasks of a burst share a few schedules; building the value object for each
    # claimed row (twice: planning, then recording) cost more than the slot lookup.
    return Schedule.from_columns(dict(zip(schedules.COLUMNS, key, strict=True)))


@lru_cache(maxsize=4096)
def _next_slot(
    schedule: Schedule, anchor: dt.datetime | None, after: dt.datetime
) -> dt.datetime | None:
    # Many tasks share a schedule and a slot (every task on "0 * * * *" at the
    # top of the hour), so a burst computes each next slot once.
    return schedule.next_after(after, anchor=anchor)


def next_slot(row: dict, after: dt.datetime) -> dt.datetime | None:
    """The first slot of ``row``'s schedule strictly after ``after`` (UTC), or None."""
    schedule = schedule_of(row)
    if schedule.type not in REPEATING:
        return None
    anchor = row["run_at"] or row["created_at"]
    if schedule.type != RECURRING:
        # Cron has minute granularity and no anchor: the next slot after 12:00:37
        # is the next slot after 12:00:00, so these keys repeat and the cache hits.
        after, anchor = after.replace(second=0, microsecond=0), None
    try:
        return _next_slot(schedule, anchor, after)
    except Exception:  # noqa: BLE001 - a broken schedule stops repeating; the run reports it
        return None


def missed_slots(row: dict, slot: dt.datetime, now: dt.datetime, cap: int) -> list[dt.datetime]:
    """Slots after ``slot`` that are already due at ``now`` (at most ``cap``, newest kept)."""
    found: list[dt.datetime] = []
    current = slot
    for _i in range(10_000):
        following = next_slot(row, current)
        if following is None or following > now:
            break
        found.append(following)
        current = following
    return found[-cap:] if cap else found


def backoff(
    retry_count: int, base: float, cap: float, jitter: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait before retry number ``retry_count + 1``: exponential, capped, jittered."""
    delay = min(cap, base * (2**retry_count))
    spread = delay * max(0.0, min(1.0, jitter))
    return max(0.0, delay - (rng or random).uniform(0, spread))


def is_repeating(row: dict) -> bool:
    return row["schedule_type"] in REPEATING


__all__ = ["backoff", "missed_slots", "next_slot", "schedule_of", "is_repeating", "schedules"]
