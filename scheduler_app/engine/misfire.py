"""Decide what a claimed task does about slots it missed (the misfire policy).

* ``run_once`` (default): several missed slots run once, for the latest one;
  the count of coalesced slots goes into the run's log.
* ``skip``: if more than the claimed slot has passed, skip them all and wait
  for the next future slot.
* ``run_all``: replay missed slots one after another, at most the cap.

Every policy skips a slot older than the grace period (the task's
``misfire_grace`` or ``SCHEDULER["MISFIRE_GRACE"]``; None means no limit).
Skipped slots become one ``skipped`` log row, not one per slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler_app.engine import timing
from scheduler_app.models import MisfirePolicy


@dataclass(frozen=True)
class Plan:
    run_slot: dt.datetime | None  # None: skip this claim
    coalesced: int = 0
    skipped: int = 0
    reason: str = ""
    resume_at: dt.datetime | None = None  # where a skip sends next_run


def _too_late(slot: dt.datetime, now: dt.datetime, grace: int | None) -> bool:
    return grace is not None and (now - slot).total_seconds() > grace


def plan(row: dict, now: dt.datetime, default_grace: int | None, cap: int) -> Plan:
    slot = row["occurrence_at"] or row["next_run"]
    grace = row["misfire_grace"] if row["misfire_grace"] is not None else default_grace
    if row["retry_count"] > 0:
        return Plan(slot)  # a retry of an occurrence that already started
    if not timing.is_repeating(row):
        if _too_late(slot, now, grace):
            return Plan(None, skipped=1, reason=_late_reason(slot, now, grace))
        return Plan(slot)
    following = timing.next_slot(row, slot)
    missed = [] if following is None or following > now else timing.missed_slots(row, slot, now, 0)
    policy = row["misfire_policy"]
    if not missed and not _too_late(slot, now, grace):
        return Plan(slot)  # the common case: on time
    upcoming = timing.next_slot(row, now)
    if policy == MisfirePolicy.RUN_ALL:
        if len(missed) >= cap > 0:
            keep_from = missed[-cap]
            return Plan(
                None,
                skipped=1 + len(missed) - cap,
                resume_at=keep_from,
                reason=f"more than {cap} missed runs; replaying the last {cap}",
            )
        if _too_late(slot, now, grace):
            return Plan(
                None,
                skipped=1,
                resume_at=missed[0] if missed else upcoming,
                reason=_late_reason(slot, now, grace),
            )
        return Plan(slot)
    if policy == MisfirePolicy.SKIP:
        if missed or _too_late(slot, now, grace):
            return Plan(
                None,
                skipped=1 + len(missed),
                resume_at=upcoming,
                reason=f"{1 + len(missed)} missed run(s) skipped by the skip policy",
            )
        return Plan(slot)
    latest = missed[-1] if missed else slot
    if _too_late(latest, now, grace):
        return Plan(
            None,
            skipped=1 + len(missed),
            resume_at=upcoming,
            reason=_late_reason(latest, now, grace),
        )
    return Plan(latest, coalesced=len(missed))


def _late_reason(slot: dt.datetime, now: dt.datetime, grace: int | None) -> str:
    late = int((now - slot).total_seconds())
    return f"missed by {late} s, beyond the grace of {grace} s"
