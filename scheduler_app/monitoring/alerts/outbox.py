"""The alerts' outbox: alerts are written with the runs they are about and delivered off the pass.

An alert sent during a pass would make the next pass wait for a slow mail
server or a dead webhook (its timeouts and retries); an alert kept in memory
would be lost when the scheduler stops. So each alert is a row
(:class:`~scheduler_app.models.PendingAlert`) written in the transaction that
records its runs; after the pass, a thread of the scheduler process delivers
the due rows while the next pass goes on; any later pass, of any scheduler,
picks up what a stopped process left.

Delivery makes one attempt per channel at a time. A channel that fails is
tried again after ``WEBHOOK_RETRY_DELAY`` seconds, doubling, until
``1 + WEBHOOK_RETRIES`` attempts failed; then the alert is given up (logged
at ERROR). A channel that failed is not tried for the other alerts of the
same round: a dead webhook costs one timeout per round, not one per alert.
The rate limit is asked once per alert, when it first goes out. A row is
claimed (compare-and-set) while it is delivered, so two schedulers never send
it twice; the claim of a deliverer that died runs out.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable

from django.db import DatabaseError, connections, transaction
from django.db.models import Min
from django.utils import timezone

from scheduler_app.models import PendingAlert
from scheduler_app.monitoring.alerts import config, ratelimit, recipients, senders
from scheduler_app.monitoring.alerts.alert import Alert
from scheduler_app.monitoring.alerts.config import EMAIL, AlertSettings

logger = logging.getLogger("scheduler_app.alerts")

ROUND = 50  # alerts claimed per round
CLAIM_SECONDS = 60  # a claim lasts this long, plus two webhook timeouts
BUDGET_SECONDS = 120  # a background run stops after about this long; the next pass starts another


def enqueue(alerts: Iterable[Alert], *, now: dt.datetime | None = None) -> list[int]:
    """Write ``alerts`` to the outbox, due at ``now``; return their row ids (one query)."""
    due = now or timezone.now()
    rows = [PendingAlert(key=a.key, alert=a.as_json(), next_attempt_at=due) for a in alerts]
    if not rows:
        return []
    PendingAlert.objects.bulk_create(rows)
    return [row.pk for row in rows]


def pending_keys(keys: list[str]) -> set[str]:
    """The keys among ``keys`` with an alert still waiting in the outbox (one query)."""
    if not keys:
        return set()
    return set(PendingAlert.objects.filter(key__in=keys).values_list("key", flat=True))


def deliver_due(
    now: dt.datetime | None = None, *, only: list[int] | None = None, limit: int = ROUND
) -> list[Alert]:
    """One round: deliver the alerts due at ``now``; return those that went out in it."""
    settings = config.get()
    now = now or timezone.now()
    due = PendingAlert.objects.due(now)
    if only is not None:
        due = due.filter(pk__in=only)
    token = uuid.uuid4().hex
    failing: set[str] = set()  # channels that failed in this round
    sent: list[Alert] = []
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        row = _claim(pk, token, now, settings)
        if row is not None:
            alert = _deliver(row, settings, now, failing)
            if alert is not None:
                sent.append(alert)
    return sent


def deliver_now(
    ids: list[int],
    *,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] | None = None,
) -> list[Alert]:
    """Deliver the rows ``ids`` in this thread, waiting out their retries; return what went out."""
    clock = now or timezone.now()
    sent: list[Alert] = []
    while True:
        sent += deliver_due(clock, only=ids)
        upcoming = next_due(only=ids, now=clock)
        if upcoming is None:
            return sent
        pause = max(0.0, (upcoming - clock).total_seconds())
        (sleep or time.sleep)(pause)
        clock = clock + dt.timedelta(seconds=pause) if now is not None else timezone.now()


def next_due(
    *, only: list[int] | None = None, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When the next alert no deliverer holds is due (None: no such alert waits)."""
    rows = PendingAlert.objects.unclaimed(now or timezone.now())
    if only is not None:
        rows = rows.filter(pk__in=only)
    return rows.aggregate(at=Min("next_attempt_at"))["at"]


def _claim(pk: int, token: str, now: dt.datetime, settings: AlertSettings) -> PendingAlert | None:
    hold = now + dt.timedelta(seconds=CLAIM_SECONDS + 2 * settings.webhook_timeout)
    # Compare-and-set: of two deliverers, the one whose update changed the row sends it.
    if PendingAlert.objects.due(now).filter(pk=pk).update(claimed_by=token, claimed_until=hold):
        return PendingAlert.objects.filter(pk=pk, claimed_by=token).first()
    return None


def _deliver(
    row: PendingAlert, settings: AlertSettings, now: dt.datetime, failing: set[str]
) -> Alert | None:
    """Try ``row``'s channels still to do; the alert if it went out through any."""
    try:
        alert = Alert.from_json(row.alert)
    except (KeyError, TypeError, ValueError):
        logger.error("Dropped an unreadable alert from the outbox: %r", row.alert)
        row.delete()
        return None
    if not settings.wants(alert.kind):
        logger.info("Alert %s dropped: alerts of this kind are off.", row.key)
        row.delete()
        return None
    if not row.admitted:
        if not _admit(row, alert, settings):
            row.delete()
            return None
    problems: list[str] = []
    tried = went_out = retry = False
    for channel in settings.channels:
        if channel in row.delivered:
            continue
        if channel in failing:
            problems.append(f"{channel}: failed for another alert of this round; not tried")
            retry = True
            continue
        tried = True
        problem = _send(channel, alert, settings)
        if problem is None:
            row.delivered = [*row.delivered, channel]
            went_out = True
            continue
        problems.append(f"{channel}: {problem[0]}")
        if problem[1]:
            retry = True
            failing.add(channel)
    if not problems:
        row.delete()
        return alert
    row.attempts += 1 if tried else 0
    row.last_error = "; ".join(problems)[:2000]
    if not retry or row.attempts >= settings.attempts:
        logger.error(
            "Gave up the %s alert for %s after %d attempt(s): %s",
            alert.kind,
            row.key,
            row.attempts,
            row.last_error,
        )
        row.delete()
        return alert if went_out else None
    delay = settings.webhook_retry_delay * 2 ** max(0, row.attempts - 1)
    row.next_attempt_at = now + dt.timedelta(seconds=delay)
    row.claimed_by, row.claimed_until = "", None
    row.save()
    return alert if went_out else None


def _admit(row: PendingAlert, alert: Alert, settings: AlertSettings) -> bool:
    """Ask the rate limit once per alert; its answer is saved with the row at once.

    In one transaction: a deliverer that dies after asking leaves an admitted
    row, which the next one sends instead of holding it back as a repeat.
    """
    try:
        with transaction.atomic():
            admitted, held_back = ratelimit.admit(row.key, alert.at, settings.rate_limit)
            if admitted:
                alert.suppressed = held_back
                row.alert, row.admitted = alert.as_json(), True
                row.save(update_fields=["alert", "admitted"])
    except DatabaseError:
        logger.warning("Alert rate limit unavailable; sending %s anyway.", row.key, exc_info=True)
        return True
    if not admitted:
        logger.info("Alert %s held back by the rate limit.", row.key)
    return admitted


def _send(channel: str, alert: Alert, settings: AlertSettings) -> tuple[str, bool] | None:
    """One attempt through ``channel``: None when done, else (what went wrong, retry?)."""
    if channel == EMAIL:
        try:
            to = (
                recipients.for_task(alert.module_id, alert.owner_id)
                if alert.task_id is not None
                else recipients.for_scheduler()
            )
        except DatabaseError:
            logger.warning("Could not look up who to mail %s to.", alert.key, exc_info=True)
            return "the recipients could not be looked up", True
        addresses = [*to, *settings.email_to]
        if not any(addresses):
            return None  # nobody to mail: nothing left to do
        if senders.send_email(alert, addresses, settings):
            return None
        return "the mail could not be sent", True
    return senders.post_webhook_once(alert, settings)


# -- the background thread ------------------------------------------------------------

_lock = threading.Lock()
_worker: threading.Thread | None = None
_more = threading.Event()  # new alerts since the worker last looked


def deliver_in_background() -> None:
    """Deliver the due alerts in a thread of this process; the caller does not wait for it.

    Not a daemon thread: a one-shot ``runscheduler`` finishes its deliveries
    (within ``BUDGET_SECONDS``) before the process exits.
    """
    global _worker
    if not config.get().enabled:
        return
    with _lock:
        _more.set()
        if _worker is not None:
            return  # it looks again before it stops
        _worker = threading.Thread(target=_deliver_for_a_while, name="scheduler-alerts")
        _worker.start()


def wait(timeout: float | None = None) -> bool:
    """Wait for the background delivery to end; True if none runs any more."""
    worker = _worker
    if worker is None:
        return True
    worker.join(timeout)
    return not worker.is_alive()


def _deliver_for_a_while() -> None:
    global _worker
    deadline = time.monotonic() + BUDGET_SECONDS
    try:
        while time.monotonic() < deadline:
            _more.clear()
            deliver_due()
            upcoming = next_due(now=timezone.now())
            if upcoming is not None:
                # Retries are waiting: sleep until the first is due (or new alerts come).
                pause = (upcoming - timezone.now()).total_seconds()
                if pause < deadline - time.monotonic():
                    _more.wait(max(0.0, pause))
                    continue
            with _lock:
                if not _more.is_set():
                    return  # nothing new: done; a later pass starts another run
    except Exception:  # noqa: BLE001 - e.g. the database went away: the next pass tries again
        logger.exception("Delivering alerts failed; the next pass tries again.")
    finally:
        with _lock:
            _worker = None
        connections.close_all()  # this thread's connections only
