"""Review probes of workflow edges: any value as a task or edge reference, any condition."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.models import WorkflowEdge
from scheduler_app.services import workflows
from scheduler_app.services.validation import whole_number

FIXTURES = [HealthCheck.function_scoped_fixture]
ANY = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=50)
    | st.just("9" * 5000)
    | st.just("x" * 100_000)
    | st.lists(st.integers(), max_size=2)
)


@pytest.fixture
def pair(make_task):
    return make_task(name="parent"), make_task(name="child")


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(ref=ANY, where=st.sampled_from(["source", "target"]))
def test_any_reference_is_an_edge_or_a_short_field_error(pair, ref, where):
    parent, child = pair
    source, target = (ref, child) if where == "source" else (parent, ref)
    try:
        services.add_edge(source, target, user=None)
    except ValidationError as error:
        [(field, messages)] = error.message_dict.items()
        assert field in (where, "target")  # "target" too: the ref may name the other task
        assert all(len(m) <= 300 for m in messages), messages
    else:
        # Only a whole number (or its digits) naming the other task makes an edge: not True,
        # not 2.5, not a list.
        assert whole_number(ref) is not None
        WorkflowEdge.objects.all().delete()


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(ref=ANY)
def test_any_edge_reference_is_an_edge_or_a_short_field_error(pair, ref):
    try:
        services.remove_edge(ref, user=None)
    except ValidationError as error:
        [(field, messages)] = error.message_dict.items()
        assert field == "edge" and all(len(m) <= 300 for m in messages)


@pytest.mark.parametrize("condition", [None, 1, "SUCCESS", "x" * 10_000, ["success"]])
def test_an_unknown_condition_is_a_field_error(pair, condition):
    with pytest.raises(ValidationError) as refused:
        services.add_edge(*pair, user=None, condition=condition)
    assert "condition" in refused.value.message_dict


def test_a_user_who_may_not_see_the_target_learns_only_no_such_task(pair, make_user):
    parent, child = pair
    outsider = make_user("scheduler_app.SA_SCHEDULER")
    with pytest.raises(ValidationError) as refused:
        services.add_edge(parent, child, user=outsider)
    assert refused.value.message_dict == {"source": [f"No such task: {parent.pk}."]}
    with pytest.raises((ValidationError, PermissionDenied)):
        workflows.add_edge(parent.pk, child.pk, user=outsider)
