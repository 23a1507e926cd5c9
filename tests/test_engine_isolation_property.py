"""Property: whatever bodies return, raise or print, the pass records every run as it ended.

Hypothesis draws the bodies of a batch: results with arbitrary nested data
(odd keys, NaN and the infinities, bytes, dates, sets, objects whose repr
raises, lone surrogates and NUL characters), failures with odd retry delays,
later runs that are no datetimes, values that are no TaskResult, and
exceptions of every kind (str() that raises, BaseException subclasses,
sys.exit with odd codes). Each pass must end normally; each run must end as
its body did, readable back from the database; a plain JSON result must be
stored as it was. Inline for most examples, a few in worker processes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django import forms
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import SchedulableTask, TaskProvider, TaskResult
from scheduler_app.engine.claiming import Filters
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.engine.storable import MAX_DEPTH
from scheduler_app.models import ScheduledTask, TaskExecutionLog
from tests.odd_values import Opaque, ReprRaises, StrRaises, Unpicklable, assert_readable, nested
from tests.testapp.models import Execution

# -- odd values ---------------------------------------------------------------------------


class OwnBaseException(BaseException):
    pass


def odd_objects() -> st.SearchStrategy[Any]:
    """Objects JSON does not know; made per draw (hypothesis shows the factories, not them)."""
    return st.sampled_from(
        [Opaque, Unpicklable, object, lambda: len, lambda: (x for x in ()), lambda: Ellipsis]
    ).map(lambda make: make())


odd_text = st.one_of(
    st.text(
        st.one_of(
            st.characters(exclude_categories=()),
            st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\\", '"', "[", "{"]),
        ),
        max_size=20,
    ),
    st.just("\\u0000"),  # looks like an escaped NUL in JSON text, is none
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**4000), 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
    st.binary(max_size=12),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)),
    st.dates(),
    st.decimals(allow_nan=True, allow_infinity=True, places=3),
    st.uuids(),
    odd_objects(),
)
hashable = st.one_of(
    odd_text,
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.tuples(st.integers(), odd_text),
    st.frozensets(st.integers(), max_size=3),
)
data = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(hashable, children, max_size=4),
        st.tuples(children, children),
        st.sets(hashable, max_size=3),
    ),
    max_leaves=12,
)


def circular(value: Any) -> dict:
    loop: dict = {"value": value}
    loop["self"] = loop
    return loop


structures = st.one_of(
    data,
    st.integers(90, 3000).map(nested),
    data.map(circular),
)
exceptions = st.one_of(
    st.builds(ValueError, data),
    st.builds(RuntimeError, odd_text),
    st.builds(StrRaises),
    st.builds(ReprRaises),
    st.builds(SystemExit, st.one_of(st.none(), st.integers(), odd_text, odd_objects())),
    st.sampled_from([KeyboardInterrupt, GeneratorExit, OwnBaseException]).map(lambda cls: cls()),
)


# -- bodies ---------------------------------------------------------------------------------


@dataclass
class Behaviour:
    """What one body does, and how its run must end."""

    expected: str  # the log status
    act: Any  # () -> the body's return value (or raises)
    plain_data: Any = None  # a plain JSON result to find stored as it was


def returns(value: Any, expected: str, plain: Any = None) -> Behaviour:
    return Behaviour(expected, lambda: value, plain)


def raises(exc: BaseException) -> Behaviour:
    def act() -> Any:
        raise exc

    return Behaviour("failed", act)


def prints(text: str, then: Any) -> Behaviour:
    def act() -> Any:
        print(text)
        return TaskResult.success(data=then)

    return Behaviour("success", act)


def depth(value: Any) -> int:
    """How deep dicts and lists nest in ``value`` (iterative: it may be very deep, or cyclic)."""
    deepest, stack, seen = 0, [(value, 0)], set()
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                return MAX_DEPTH + 1  # a cycle: infinitely deep
            seen.add(id(item))
            deepest = max(deepest, level + 1)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def is_plain(value: Any) -> bool:
    """JSON as it is, not too deep nor too large: what must be stored unchanged."""
    if depth(value) > MAX_DEPTH:
        return False
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
        return False
    return (
        "\\u0000" not in text
        and depth(value) <= MAX_DEPTH
        and len(text) < 50_000
        and json.loads(text) == value
    )


behaviours = st.one_of(
    st.builds(
        lambda d: returns(TaskResult.success(data=d), "success", d if is_plain(d) else None),
        structures,
    ),
    st.builds(
        lambda m, d: returns(TaskResult.success(m, data=d), "success"),
        st.one_of(odd_text, data),
        data,
    ),
    st.builds(
        lambda m, d, r, delay: returns(
            TaskResult.failure(m, data=d, retry=r, retry_delay=delay), "failed"
        ),
        st.one_of(odd_text, data),
        data,
        st.one_of(st.booleans(), data),
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(), data),
    ),
    st.builds(
        lambda when: returns(TaskResult.pending(when), "skipped"),
        st.one_of(st.none(), st.datetimes(timezones=st.none() | st.timezones()), data),
    ),
    st.builds(lambda d: returns(d, "failed"), data.filter(lambda v: v is not None)),
    st.builds(raises, exceptions),
    st.builds(prints, odd_text, data),
)

GENERATED: dict[str, Behaviour] = {}


class CaseForm(forms.Form):
    case = forms.CharField()


class Drawn(SchedulableTask):
    name = "Does what hypothesis drew"
    config_form = CaseForm

    def execute(self, context):
        return GENERATED[context.config["case"]].act()


class PropertyProvider(TaskProvider):
    module_id = "proptest"
    name = "Property test module"
    base_permission = "SA_PROPTEST"
    task_types = {"drawn": Drawn}


@pytest.fixture
def proptest(register_provider):
    return register_provider(PropertyProvider)


@pytest.fixture
def template(proptest, make_task, settings):
    """A task to copy per drawn body; the control task is a real ``record`` task."""
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "RETRY_JITTER": 0,
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
    }
    task = make_task(
        "drawn",
        module="proptest",
        schedule_type="one_time",
        cron=None,
        run_at=timezone.now() + dt.timedelta(days=1),
        config={"case": "template"},
        max_retries=0,
    )
    control = make_task("record", schedule_type="one_time", cron=None, run_at=task.run_at)
    return task, control


def copies(task: ScheduledTask, cases: list[str]) -> list[ScheduledTask]:
    fields = {
        f.attname: getattr(task, f.attname)
        for f in ScheduledTask._meta.concrete_fields
        if not f.primary_key
    }
    due = timezone.now() - dt.timedelta(seconds=5)
    return ScheduledTask.objects.bulk_create(
        ScheduledTask(
            **{
                **fields,
                "name": f"drawn {case}",
                "config": {"case": case},
                "next_run": due,
                "occurrence_at": due,
            }
        )
        for case in cases
    )


def run_drawn(template, drawn: list[Behaviour]) -> None:  # noqa: ANN001
    task, control = template
    cases = {uuid.uuid4().hex: behaviour for behaviour in drawn}
    GENERATED.update(cases)
    due = timezone.now() - dt.timedelta(seconds=5)
    ScheduledTask.objects.filter(pk=control.pk).update(
        status="pending", next_run=due, occurrence_at=due
    )
    tasks = copies(task, list(cases))
    ids = (control.pk, *(t.pk for t in tasks))
    try:
        report = run_pass(PassOptions(filters=Filters(task_ids=ids)))

        assert sum(report.by_status.values()) == len(ids)
        for t in tasks:
            behaviour = cases[t.config["case"]]
            (log,) = TaskExecutionLog.objects.filter(task_id=t.pk)
            assert_readable(log)
            assert log.status == behaviour.expected, (log.status, log.error_message)
            if behaviour.expected == "failed":
                assert log.error_message
            if behaviour.plain_data is not None:
                assert log.result == behaviour.plain_data
        assert not ScheduledTask.objects.filter(pk__in=ids, status="running").exists()
        (control_log,) = TaskExecutionLog.objects.filter(task_id=control.pk)
        assert control_log.status == "success"
        assert Execution.objects.filter(task_id=control.pk).count() == 1
    finally:
        for case in cases:
            GENERATED.pop(case, None)
        ScheduledTask.objects.filter(pk__in=[t.pk for t in tasks]).delete()
        TaskExecutionLog.objects.filter(task_id=control.pk).delete()
        Execution.objects.all().delete()


BOUNDED = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@pytest.mark.django_db
@settings(max_examples=80, **BOUNDED)
@given(drawn=st.lists(behaviours, min_size=1, max_size=4))
def test_inline_the_pass_records_every_run_as_its_body_ended(template, settings, drawn):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline"}
    run_drawn(template, drawn)


@pytest.mark.django_db(transaction=True)
@settings(max_examples=6, **BOUNDED)
@given(drawn=st.lists(behaviours, min_size=3, max_size=6))
def test_in_worker_processes_the_pass_records_every_run_as_its_body_ended(
    template, settings, drawn
):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "process", "WORKERS": 2}
    run_drawn(template, drawn)


def test_what_is_plain():
    assert is_plain({"a": [1, 2.5, "x"], "b": None})
    assert not is_plain(float("nan")) and not math.isnan(0.0)
    assert not is_plain("\x00") and not is_plain("\ud800") and not is_plain({(1,): 2})
