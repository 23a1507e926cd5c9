"""The calendar feed: valid iCalendar, only the token user's viewable runs, revocable links."""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from scheduler_app import services
from scheduler_app.services import calendars, feeds
from scheduler_app.services.calendars import Period


def feed_url(raw: str) -> str:
    return reverse("scheduler_app:feed", args=[raw])


def task_ids_in(body: bytes) -> set[int]:
    cal = icalendar.Calendar.from_ical(body)
    return {int(re.match(r"task-(\d+)-", str(e["UID"]))[1]) for e in cal.walk("VEVENT")}


@pytest.fixture
def people(make_user):
    return make_user(username="alice"), make_user(username="bob")


@pytest.mark.django_db
def test_the_feed_is_valid_icalendar_with_only_the_users_viewable_runs(
    client, people, make_task, make_user
):
    alice, bob = people
    own = make_task(owner=alice, cron="0 9 * * *", name="Alice's report")
    shared = make_task(owner=bob, cron="30 9 * * *", name="Shared with Alice")
    services.share(shared, user=None, users=[alice], permissions="view")
    hidden = make_task(owner=bob, cron="0 10 * * *", name="Bob's only")
    paused = make_task(owner=alice, cron="0 11 * * *")
    services.pause(paused, user=None)
    _token, raw = feeds.issue_token(alice)

    response = client.get(feed_url(raw))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    assert cal.name == "VCALENDAR" and str(cal["VERSION"]) == "2.0"
    events = cal.walk("VEVENT")
    assert task_ids_in(response.content) == {own.pk, shared.pk}
    assert hidden.pk not in task_ids_in(response.content)
    # Daily tasks over the two-week horizon: one event per day each, in time order.
    starts = [e.decoded("DTSTART") for e in events]
    assert starts == sorted(starts) and 26 <= len(events) <= 30
    first = next(e for e in events if str(e["SUMMARY"]) == "Alice's report")
    assert first.decoded("DTSTART").tzinfo is not None and "testmod.record" in str(
        first["DESCRIPTION"]
    )

    # Bob's feed has his two tasks, not Alice's.
    _token, bob_raw = feeds.issue_token(bob)
    assert task_ids_in(client.get(feed_url(bob_raw)).content) == {shared.pk, hidden.pk}

    # A module user sees every task of the module.
    viewer = make_user("scheduler_app.SA_TESTMOD")
    _token, viewer_raw = feeds.issue_token(viewer)
    assert task_ids_in(client.get(feed_url(viewer_raw)).content) == {own.pk, shared.pk, hidden.pk}


@pytest.mark.django_db
def test_blacked_out_runs_are_marked_cancelled(client, people, make_task):
    alice, _bob = people
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    holiday = calendars.create_calendar(
        user=None, name="Holiday", periods=[Period(tomorrow, tomorrow)]
    )
    make_task(owner=alice, cron="0 12 * * *", calendars=[holiday])
    _token, raw = feeds.issue_token(alice)
    events = icalendar.Calendar.from_ical(client.get(feed_url(raw)).content).walk("VEVENT")
    cancelled = [e for e in events if str(e.get("STATUS", "")) == "CANCELLED"]
    assert len(cancelled) == 1 and cancelled[0].decoded("DTSTART").date() == tomorrow
    assert "Holiday" in str(cancelled[0]["DESCRIPTION"])


@pytest.mark.django_db
def test_revoked_unknown_and_replaced_tokens_get_404(client, people):
    alice, _bob = people
    _token, old = feeds.issue_token(alice)
    _token, new = feeds.issue_token(alice)
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200
    feeds.revoke(alice)
    assert client.get(feed_url(new)).status_code == 404
    assert client.get(feed_url("not-a-token")).status_code == 404
    _token, raw = feeds.issue_token(_bob)
    _bob.is_active = False
    _bob.save()
    assert client.get(feed_url(raw)).status_code == 404


@pytest.mark.django_db
def test_only_the_digest_is_stored(people):
    alice, _bob = people
    token, raw = feeds.issue_token(alice)
    assert raw not in token.digest and token.prefix == raw[:8]
    assert feeds.user_for_token(raw) == alice


@pytest.mark.django_db
def test_a_refresh_is_recorded_at_most_once_per_touch_interval(people):
    alice, _bob = people
    start = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        token, raw = feeds.issue_token(alice)
        assert feeds.user_for_token(raw) == alice
        token.refresh_from_db()
        assert token.last_used_at == start
        clock.shift(feeds.TOUCH_EVERY - dt.timedelta(seconds=1))
        feeds.user_for_token(raw)
        token.refresh_from_db()
        assert token.last_used_at == start
        clock.shift(dt.timedelta(seconds=1))
        feeds.user_for_token(raw)
        token.refresh_from_db()
        assert token.last_used_at == start + feeds.TOUCH_EVERY


@pytest.mark.django_db
def test_the_feed_page_makes_and_revokes_a_link(client, people):
    alice, _bob = people
    client.force_login(alice)
    page = client.post(reverse("scheduler_app:feed_settings"), {"action": "create"})
    assert page.status_code == 200
    url = re.search(r'value="(http[^"]+\.ics)"', page.content.decode())[1]
    assert client.get(url).status_code == 200
    client.post(reverse("scheduler_app:feed_settings"), {"action": "revoke"})
    assert client.get(url).status_code == 404
