"""The objects run signals carry are the ones ``Model(**values)`` would build, only cheaper.

And a pass builds them only for runs someone listens to: a module's own signal with a
receiver makes that module's runs heard, not every other module's.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db.models.signals import post_init
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import signals
from scheduler_app.engine.passes import run_pass
from scheduler_app.engine.row_objects import RowObjects
from scheduler_app.models import ScheduledTask, TaskExecutionLog

pytestmark = pytest.mark.django_db

MODELS = [ScheduledTask, TaskExecutionLog]


def _stored_values(model) -> dict:
    """Every column of a real row of ``model``, by attname."""
    row = model.objects.order_by("pk").first()
    return {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}


def _columns(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.fixture
def inline(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "LOCK_PREFIX": f"scheduler:test:{uuid.uuid4().hex}:",
    }


@pytest.fixture
def stored(make_task, inline):
    make_task(due=timezone.now() - dt.timedelta(minutes=1), config={})
    run_pass()
    return {model: _stored_values(model) for model in MODELS}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_object_holds_what_the_model_constructor_gives_for_any_columns_known(stored, data):
    model = data.draw(st.sampled_from(MODELS))
    known = data.draw(st.sets(st.sampled_from(sorted(stored[model]))))
    values = {name: stored[model][name] for name in known}

    built = RowObjects(model).build(dict(values))
    expected = model(**values)

    assert type(built) is model
    assert built._state.adding is False
    for name, value in _columns(expected).items():
        if name in values:
            assert getattr(built, name) == value, name
        else:  # a default: equal, or made anew the same way (a callable default)
            assert type(getattr(built, name)) is type(value), name
            if not any(f.attname == name and callable(f.default) for f in model._meta.fields):
                assert getattr(built, name) == value, name


def test_callable_defaults_are_made_anew_for_each_object(stored):
    builder = RowObjects(ScheduledTask)
    first, second = builder.build({"id": 1}), builder.build({"id": 2})
    mutable = [
        f.attname
        for f in ScheduledTask._meta.concrete_fields
        if callable(f.default) and isinstance(getattr(first, f.attname), (dict, list))
    ]
    assert mutable, "the task model has a dict or list default (config, tags ...)"
    for name in mutable:
        assert getattr(first, name) is not getattr(second, name), name


def test_a_projects_init_receivers_still_hear_every_object(stored):
    heard = []

    def receive(sender, instance, **kwargs):
        heard.append(instance.pk)

    post_init.connect(receive, sender=ScheduledTask, weak=False)
    try:
        built = RowObjects(ScheduledTask).build({"id": 7, "name": "x"})
    finally:
        post_init.disconnect(receive, sender=ScheduledTask)
    assert heard == [7] and built.name == "x" and built._state.adding is False


def test_values_that_are_no_column_go_through_the_model_constructor(stored):
    built = RowObjects(ScheduledTask).build({"id": 3, "pk": 3})
    assert built.pk == 3 and built._state.adding is False


@pytest.fixture
def generic_signals_unheard():
    """The generic run signals without receivers (the demo modules listen to one) for a test."""
    sigs = [signals.task_executing, signals.task_executed, signals.task_succeeded]
    saved = [(sig, sig.receivers) for sig in sigs]
    for sig in sigs:
        sig.receivers = []
        sig.sender_receivers_cache.clear()
    yield
    for sig, receivers in saved:
        sig.receivers = receivers
        sig.sender_receivers_cache.clear()


def test_a_module_signal_receiver_hears_its_modules_runs_only(
    make_task, inline, generic_signals_unheard
):
    due = timezone.now() - dt.timedelta(minutes=1)
    mine = make_task(due=due)
    heard = []

    def receive(sender, task, log, config, **kwargs):
        heard.append((task.pk, task.module_id, log.status, config))

    # A fresh module id: no other test's receivers; the generic signals have none here.
    module = f"quiet{uuid.uuid4().hex[:8]}"
    other = signals.module_signal(module, "task.executed")
    other.connect(receive, weak=False)
    own = signals.module_signal("testmod", "task.succeeded")
    own.connect(receive, weak=False)
    try:
        assert not signals.task_executed.has_listeners()
        assert signals.modules_listening(("task.executed", "task.succeeded")) >= {
            module,
            "testmod",
        }
        run_pass()
    finally:
        other.disconnect(receive)
        own.disconnect(receive)
    assert heard == [(mine.pk, "testmod", "success", mine.config)]
    assert module not in signals.modules_listening(("task.executed",))
