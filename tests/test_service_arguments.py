"""Every argument of services.schedule / services.update is type- and length-checked.

Bad values are a ValidationError naming the argument, never a TypeError,
ValueError, OverflowError or IntegrityError; nothing is saved; messages quote
at most ~80 characters of what was given. The property tests below try
arbitrary values for every argument, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.models import BlackoutCalendar, ScheduledTask, TaskAuditEvent

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LONG = 100_000
#: The longest run of input characters a message may quote.
QUOTED = 80
#: The longest message a service error may carry.
MESSAGE = 300
VALID_LONG_CRON = "0 " + ",".join(["6"] * 110) + " * * *"  # valid, but longer than the column


def schedule(**kwargs: Any) -> ScheduledTask:
    kwargs.setdefault("user", None)
    kwargs.setdefault("module", "testmod")
    kwargs.setdefault("task_type", "record")
    kwargs.setdefault("schedule_type", "cron")
    kwargs.setdefault("cron", "0 6 * * *")
    kwargs.setdefault("now", NOW)
    return services.schedule(**kwargs)


def texts_in(value: Any) -> list[str]:
    """Every string inside ``value`` (arguments may nest them, deeply)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
    return found


def assert_bounded(error: Exception, arguments: dict[str, Any]) -> None:
    """No message is long, and none quotes more than QUOTED characters of any input."""
    messages = getattr(error, "messages", None) or [str(error)]
    for message in messages:
        assert len(message) <= MESSAGE, message[:200]
        for text in texts_in(list(arguments.values())):
            if len(text) > QUOTED:
                assert text[: QUOTED + 1] not in message, message[:200]


SCHEDULE_CASES = [
    ({"cron": "* " * (LONG // 2)}, "cron"),
    ({"cron": "x" * (LONG + 9)}, "cron"),
    ({"cron": VALID_LONG_CRON}, "cron"),
    ({"cron": 5}, "cron"),
    ({"cron": "0 6 * * *\x00"}, "cron"),
    ({"name": "x" * LONG}, "name"),
    ({"name": 5}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"name": "lone \ud800 surrogate"}, "name"),
    ({"schedule_type": "event", "cron": None, "event": "e" * 121}, "event"),
    ({"schedule_type": "event", "cron": None, "event": 5}, "event"),
    ({"schedule_type": "event", "cron": None, "event": "e\x00"}, "event"),
    ({"timezone": "Europe/" + "x" * LONG}, "timezone"),
    ({"timezone": 5}, "timezone"),
    ({"tags": 5}, "tags"),
    ({"tags": [5]}, "tags"),
    ({"tags": ["x" * LONG]}, "tags"),
    ({"tags": "<b>"}, "tags"),
    ({"tags": [f"t{i}" for i in range(100)]}, "tags"),
    ({"tags": {"a": 1}}, "tags"),
    ({"owner": 5}, "owner"),
    ({"owner": "root"}, "owner"),
    ({"owner": User(username="unsaved")}, "owner"),
    ({"config": [1]}, "config"),
    ({"config": "note"}, "config"),
    ({"config": {1: "x"}}, "config"),
    ({"config": {"note": "x" * LONG}}, "config"),
    ({"config": {"k" + "x" * LONG: 1}}, "config"),
    (
        {
            "config": {
                "note": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
            }
        },
        "config",
    ),
    ({"config": {"sleep": float("nan")}}, "config"),
    ({"config": {"note": object()}}, "config"),
    ({"priority": "x"}, "priority"),
    ({"priority": True}, "priority"),
    ({"priority": 2.5}, "priority"),
    ({"priority": float("inf")}, "priority"),
    ({"priority": 10**100}, "priority"),
    ({"priority": [1]}, "priority"),
    ({"max_retries": 500}, "max_retries"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": "9" * 5000}, "timeout"),
    ({"misfire_grace": -1}, "misfire_grace"),
    ({"misfire_policy": ["skip"]}, "misfire_policy"),
    ({"misfire_policy": "x" * LONG}, "misfire_policy"),
    ({"schedule_type": "one_time", "cron": None, "run_at": "tomorrow"}, "run_at"),
    ({"schedule_type": "one_time", "cron": None, "run_at": 5}, "run_at"),
    ({"schedule_type": "one_time", "cron": None, "run_at": dt.datetime.max}, "run_at"),
    (
        {"schedule_type": "one_time", "cron": None, "run_at": dt.datetime.max.replace(tzinfo=UTC)},
        "run_at",
    ),
    (
        {
            "schedule_type": "recurring",
            "cron": None,
            "interval": "1 hours",
            "run_at": dt.datetime.min,
        },
        "run_at",
    ),
    ({"schedule_type": "one_time", "cron": None, "run_at": "2030-01-01" + " " * LONG}, "run_at"),
    ({"schedule_type": "recurring", "cron": None, "interval": -1}, "interval"),
    ({"schedule_type": "recurring", "cron": None, "interval": 1.5}, "interval"),
    ({"schedule_type": "recurring", "cron": None, "interval": (1, "x" * LONG)}, "interval"),
    ({"schedule_type": "recurring", "cron": None, "interval": ("9" * 5000, "minutes")}, "interval"),
    ({"schedule_type": "recurring", "cron": None, "interval": {"every": 1}}, "interval"),
    ({"schedule_type": 5}, "schedule_type"),
    ({"schedule_type": "x" * LONG}, "schedule_type"),
    ({"module": "x" * LONG}, "module"),
    ({"module": ["testmod"]}, "module"),
    ({"task_type": None}, "task_type"),
    ({"task_type": "y" * LONG}, "task_type"),
    ({"allow_overlap": "no"}, "allow_overlap"),
    ({"is_system": "yes"}, "is_system"),
    ({"calendars": 5}, "calendars"),
    ({"calendars": "holidays"}, "calendars"),
    ({"calendars": [10**30]}, "calendars"),
    ({"calendars": ["x" * LONG]}, "calendars"),
    ({"calendars": [BlackoutCalendar(name="unsaved")]}, "calendars"),
    ({"on_success": 5}, "on_success"),
    ({"on_success": [10**30]}, "on_success"),
    ({"on_success": ["x" * LONG]}, "on_success"),
    ({"condition": 5}, "condition"),
    ({"condition": "x" * LONG}, "condition"),
]


@pytest.mark.parametrize(("kwargs", "field"), SCHEDULE_CASES)
def test_schedule_refuses_a_bad_argument_by_name(kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        schedule(**kwargs)
    assert field in excinfo.value.message_dict, excinfo.value.message_dict
    assert_bounded(excinfo.value, kwargs)
    assert not ScheduledTask.objects.exists()
    assert not TaskAuditEvent.objects.exists()


UPDATE_CASES = [
    (kwargs, field)
    for kwargs, field in SCHEDULE_CASES
    if field not in ("module", "task_type", "owner", "is_system", "condition")
] + [
    ({"enabled": "yes"}, "enabled"),
    ({"enabled": None}, "enabled"),
]


@pytest.mark.parametrize(("kwargs", "field"), UPDATE_CASES)
def test_update_refuses_a_bad_argument_by_name(kwargs, field):
    task = schedule(name="kept", tags=["a"])
    before = ScheduledTask.objects.values().get(pk=task.pk)
    events = TaskAuditEvent.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        services.update(task, user=None, now=NOW, **kwargs)
    assert field in excinfo.value.message_dict, excinfo.value.message_dict
    assert_bounded(excinfo.value, kwargs)
    assert ScheduledTask.objects.values().get(pk=task.pk) == before
    assert TaskAuditEvent.objects.count() == events


def test_the_longest_values_the_columns_hold_are_accepted():
    task = schedule(
        name="n" * 200,
        cron="0 6 * * " + ",".join(["1"] * 56),
        tags=["t" * 50],
        timezone="America/Argentina/ComodRivadavia",
    )
    task.refresh_from_db()
    assert len(task.name) == 200 and len(task.cron_expression) <= 200
    assert task.tags == ["t" * 50]


def test_numbers_may_come_as_text_from_forms_and_files():
    task = schedule(priority="2", max_retries=" 4 ", timeout="60", misfire_grace="30")
    assert (task.priority, task.max_retries, task.timeout, task.misfire_grace) == (2, 4, 60, 30)


def test_a_config_larger_than_the_setting_is_refused(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "MAX_CONFIG_SIZE": 100}
    with pytest.raises(ValidationError) as excinfo:
        schedule(config={"note": "x" * 150})
    assert "config" in excinfo.value.message_dict
    assert schedule(config={"note": "x" * 50}).config["note"] == "x" * 50


# -- arbitrary values for every argument ---------------------------------------------------

texts = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(categories=["Cc", "Cs", "L", "N", "P"]), max_size=300),
    st.sampled_from(["", " ", "\x00", "0 6 * * *", "@daily", "Europe/Berlin", "UTC", "<b>"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC))),
    st.timedeltas(),
    st.dates(),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)


def plausible(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly values of the right kind, sometimes anything at all."""
    return st.one_of(valid, valid, valid, anything)


SCHEDULE_ARGUMENTS = {
    "module": plausible(st.sampled_from(["testmod", "nope"])),
    "task_type": plausible(st.sampled_from(["record", "noop", "nope"])),
    "config": plausible(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {}, optional={"note": texts, "sleep": st.floats(), "extra": anything}
            ),
        )
    ),
    "schedule_type": plausible(
        st.sampled_from(["cron", "one_time", "recurring", "event", "conditional", "hourly"])
    ),
    "cron": plausible(
        st.one_of(
            st.none(),
            st.sampled_from(["0 6 * * *", "*/5 * * * *", "@daily", "61 * * * *", VALID_LONG_CRON]),
        )
    ),
    "run_at": plausible(
        st.one_of(
            st.none(),
            st.datetimes(
                min_value=dt.datetime(2026, 6, 2),
                max_value=dt.datetime(2030, 1, 1),
                timezones=st.just(UTC),
            ),
            st.datetimes(),
            st.sampled_from(["2030-01-31 06:00", "tomorrow"]),
        )
    ),
    "interval": plausible(
        st.one_of(
            st.none(),
            st.integers(-5, 10**6),
            st.tuples(st.integers(-5, 10**6), st.sampled_from(["minutes", "hours", "days", "x"])),
            st.sampled_from(["15 minutes", "2 weeks", "often"]),
        )
    ),
    "event": plausible(st.one_of(st.none(), st.sampled_from(["orders.paid", ""]))),
    "condition": plausible(st.one_of(st.none(), st.just("when ready"))),
    "timezone": plausible(
        st.one_of(st.none(), st.sampled_from(["UTC", "Europe/Berlin", "Mars/Base"]))
    ),
    "name": plausible(st.one_of(st.none(), texts)),
    "priority": plausible(st.integers(-3, 15)),
    "max_retries": plausible(st.one_of(st.none(), st.integers(-3, 120))),
    "timeout": plausible(st.one_of(st.none(), st.integers(-3, 10**7))),
    "allow_overlap": plausible(st.booleans()),
    "tags": plausible(st.one_of(st.lists(texts, max_size=5), texts)),
    "misfire_policy": plausible(st.sampled_from(["run_once", "skip", "run_all", "never"])),
    "misfire_grace": plausible(st.one_of(st.none(), st.integers(-3, 10**9))),
    "calendars": plausible(
        st.one_of(st.just(()), st.lists(st.one_of(st.integers(-3, 10**20), texts), max_size=3))
    ),
    "on_success": plausible(st.one_of(st.just(()), st.lists(st.integers(-3, 10**20), max_size=3))),
    "owner": plausible(st.none()),
}
UPDATE_ARGUMENTS = {
    key: value for key, value in SCHEDULE_ARGUMENTS.items() if key in services.EDITABLE_FIELDS
} | {"enabled": plausible(st.booleans())}


def round_trips(task: ScheduledTask) -> None:
    """The saved task is valid and reads back exactly as the service returned it."""
    stored = ScheduledTask.objects.get(pk=task.pk)
    stored.full_clean(exclude=["owner", "created_by", "updated_by"])
    for field in ScheduledTask._meta.concrete_fields:
        if field.name in ("updated_at",):
            continue
        assert getattr(stored, field.attname) == getattr(task, field.attname), field.name
    assert stored.schedule.validate(NOW, check_past=False) is not None


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(arguments=st.fixed_dictionaries({}, optional=SCHEDULE_ARGUMENTS))
def test_schedule_saves_a_valid_task_or_refuses_by_name(db, arguments):
    with transaction.atomic():
        try:
            task = schedule(**arguments)
        except (ValidationError, PermissionDenied) as error:
            assert_bounded(error, arguments)
        else:
            round_trips(task)
        transaction.set_rollback(True)


@PROPERTY
@given(arguments=st.fixed_dictionaries({}, optional=UPDATE_ARGUMENTS))
def test_update_saves_a_valid_task_or_changes_nothing(db, arguments):
    with transaction.atomic():
        task = schedule(name="before", config={"note": "n"})
        before = ScheduledTask.objects.values().get(pk=task.pk)
        try:
            services.update(task, user=None, now=NOW, **arguments)
        except (ValidationError, PermissionDenied) as error:
            assert_bounded(error, arguments)
            assert ScheduledTask.objects.values().get(pk=task.pk) == before
        else:
            round_trips(task)
        transaction.set_rollback(True)


def test_messages_name_the_argument_without_quoting_it_whole():
    with pytest.raises(ValidationError) as excinfo:
        schedule(cron="x" * LONG)
    [message] = excinfo.value.message_dict["cron"]
    assert re.search(r"200", message), message


# -- the other services that take free input: emit and next_runs ---------------------------


def deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"event_name": 5}, "event_name"),
        ({"event_name": None}, "event_name"),
        ({"event_name": " "}, "event_name"),
        ({"event_name": "e" * LONG}, "event_name"),
        ({"event_name": "e\x00"}, "event_name"),
        ({"event_name": "paid", "payload": [1]}, "payload"),
        ({"event_name": "paid", "payload": {"n": float("nan")}}, "payload"),
        ({"event_name": "paid", "payload": {"x": object()}}, "payload"),
        ({"event_name": "paid", "payload": {"deep": deep(100_000)}}, "payload"),
        ({"event_name": "paid", "payload": {"text": "a\x00b"}}, "payload"),
        ({"event_name": "paid", "payload": {"big": "x" * 70_000}}, "payload"),
    ],
)
def test_emit_refuses_a_bad_argument_by_name(kwargs, field, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValidationError) as excinfo:
            services.emit(**kwargs)
    assert field in excinfo.value.message_dict
    assert_bounded(excinfo.value, kwargs)
    assert callbacks == []


def test_emit_still_takes_dates_and_decimals(django_capture_on_commit_callbacks):
    import decimal

    with django_capture_on_commit_callbacks() as callbacks:
        services.emit("paid", {"at": NOW, "amount": decimal.Decimal("1.50")})
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cron": "0 6 * * *", "count": 10**9}, "count"),
        ({"cron": "0 6 * * *", "count": -1}, "count"),
        ({"cron": "0 6 * * *", "count": "5"}, "count"),
        ({"cron": 5}, "cron"),
        ({"cron": "x" * LONG}, "cron"),
        ({"cron": "0 6 * * *", "timezone": "x" * LONG}, "timezone"),
        ({"cron": "0 6 * * *", "after": "now"}, "after"),
        ({"cron": "0 6 * * *", "after": dt.datetime(2026, 1, 1)}, "after"),
    ],
)
@pytest.mark.parametrize("preview", [services.next_runs, services.next_runs_with_notes])
def test_next_runs_refuses_a_bad_argument_by_name(preview, kwargs, field):
    with pytest.raises(ValidationError) as excinfo:
        preview("cron", **kwargs)
    assert field in excinfo.value.message_dict
    assert_bounded(excinfo.value, kwargs)
