"""Probes of the module pages' workflow lists: odd ids, system/cancelled/hidden targets, loops."""

from __future__ import annotations

import pytest

from scheduler_app import services
from scheduler_app.models import ScheduledTask, WorkflowEdge
from tests.test_forms_edges import edges_of, edit_data, edit_url, hidden_task, own, user  # noqa: F401

pytestmark = pytest.mark.django_db


def errors_of(response) -> str:
    assert response.status_code == 400, response.status_code
    return response.content.decode()


@pytest.mark.parametrize(
    "value",
    ["abc", "1.5", "-1", "0", str(2**63), str(2**70), "9" * 5000, "²", "١", "1\x00", " ", "0x10"],
)
def test_an_odd_id_is_a_field_error_and_saves_nothing(client, user, own, value):  # noqa: F811
    task = own("Source")
    client.force_login(user)
    data = edit_data(task, on_success=[])
    data["edges-on_success"] = [value]
    data["name"] = "Renamed"
    response = client.post(edit_url(task), data)
    html = errors_of(response)
    assert "errorlist" in html
    assert ScheduledTask.objects.get(pk=task.pk).name == "Source"
    assert edges_of(task) == {}
    assert len(html) < 200_000  # a huge value is not echoed whole


def test_a_duplicate_in_one_list_is_one_edge(client, user, own):  # noqa: F811
    task, target = own("Source"), own("Target")
    client.force_login(user)
    response = client.post(edit_url(task), edit_data(task, on_success=[target.pk, target.pk]))
    assert response.status_code == 302
    assert edges_of(task) == {target.pk: "success"}


@pytest.mark.parametrize("kind", ["system", "cancelled", "hidden", "self"])
def test_a_target_that_cannot_be_is_refused_on_its_list(client, user, own, make_task, kind):  # noqa: F811
    task = own("Source")
    if kind == "system":
        target = make_task(name="System job", is_system=True)
    elif kind == "cancelled":
        target = own("Ended")
        services.cancel(target, user=None)
    elif kind == "hidden":
        target = hidden_task(make_task, "Secret plan")
    else:
        target = task
    client.force_login(user)
    response = client.post(edit_url(task), edit_data(task, always=[target.pk]))
    html = errors_of(response)
    assert "errorlist" in html
    assert edges_of(task) == {}
    if kind == "hidden":
        assert "Secret plan" not in html


def test_a_loop_through_several_tasks_is_refused(client, user, own):  # noqa: F811
    a, b, c, d = own("A"), own("B"), own("C"), own("D")
    for src, dst in ((a, b), (b, c), (c, d)):
        services.add_edge(src, dst, user=None)
    client.force_login(user)
    response = client.post(edit_url(d), edit_data(d, on_failure=[a.pk]))
    html = errors_of(response)
    assert "errorlist" in html
    assert edges_of(d) == {}


@pytest.mark.parametrize("shown", [None, "", "False", "false", "0", "garbage", "on"])
def test_the_shown_field_missing_or_odd(client, user, own, shown):  # noqa: F811
    task, kept = own("Source"), own("Kept")
    services.add_edge(task, kept, user=None)
    client.force_login(user)
    data = edit_data(task, on_success=[])
    del data["edges-on_success"]
    if shown is None:
        del data["edges-shown"]
    else:
        data["edges-shown"] = shown
    response = client.post(edit_url(task), data)
    assert response.status_code == 302
    removed = shown in ("garbage", "on")  # a true value: the (empty) lists were on the page
    assert edges_of(task) == ({} if removed else {kept.pk: "success"})


def test_a_list_over_the_bound_is_refused_before_any_service_call(client, user, own):  # noqa: F811
    task = own("Source")
    client.force_login(user)
    response = client.post(edit_url(task), edit_data(task, always=range(1, 102)))
    assert "errorlist" in errors_of(response)
    assert WorkflowEdge.objects.count() == 0


def test_a_loop_through_a_task_the_user_may_not_view_does_not_name_it(client, user, own, make_task):  # noqa: F811
    a, b = own("A"), own("B")
    secret = hidden_task(make_task, "Secret plan")
    services.add_edge(a, secret, user=None)
    services.add_edge(secret, b, user=None)
    client.force_login(user)
    response = client.post(edit_url(b), edit_data(b, on_success=[a.pk]))
    html = errors_of(response)
    assert "cycle" in html
    assert "Secret plan" not in html and f"/{secret.pk}/" not in html
    assert "“A”" in html and "“B”" in html
    assert edges_of(b) == {}


def test_the_services_name_no_hidden_task_in_a_loop_of_chains_or_edges(user, own, make_task):  # noqa: F811
    from django.core.exceptions import ValidationError

    a, b = own("A"), own("B")
    secret = hidden_task(make_task, "Secret plan")
    services.add_edge(a, secret, user=None)
    services.add_edge(secret, b, user=None)
    with pytest.raises(ValidationError) as caught:
        services.add_edge(b, a, user=user)
    assert "Secret plan" not in " ".join(caught.value.messages)
    # A user who may view every task still reads every name.
    with pytest.raises(ValidationError) as caught:
        services.add_edge(b, a, user=None)
    assert "Secret plan" in " ".join(caught.value.messages)
    from scheduler_app.services import chains

    with pytest.raises(ValidationError) as caught:
        chains.resolve(user, [a.pk], task=b)
    message = " ".join(caught.value.messages)
    assert "Secret plan" not in message and "a task you cannot see" in message


@pytest.mark.parametrize("value", ["9" * 5000, "x" * 5000, "1" * 100])
def test_an_odd_id_is_quoted_cut_short(client, user, own, value):  # noqa: F811
    task = own("Source")
    client.force_login(user)
    data = edit_data(task)
    data["edges-always"] = [value]
    html = errors_of(client.post(edit_url(task), data))
    assert "is not a task id" in html
    assert value[:100] not in html
