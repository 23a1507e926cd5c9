"""Review probes: any query string on the API's lists is a 200 or a 400 naming a parameter;
any id in a path is a JSON 404 or an answer, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import API

FIXTURES = [HealthCheck.function_scoped_fixture]
NAMES = ["module", "task_type", "status", "tag", "owner", "search", "ordering", "page", "page_size"]
VALUES = st.text(max_size=40) | st.sampled_from(
    ["-id", "name", "0", "-1", "9" * 30, "\x00", "\ud800", "x" * 201, "1e3", "²", "١"]
)


@pytest.fixture
def task(make_task, scheduler_user):
    return make_task(owner=scheduler_user, tags=["nightly"])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(params=st.dictionaries(st.sampled_from([*NAMES, "unknown"]), VALUES, max_size=4))
def test_any_list_query_is_a_200_or_a_400_naming_it(api, task, params):
    params = {k: v.encode("utf-8", "surrogatepass").decode("latin-1") for k, v in params.items()}
    for url in (f"{API}tasks/", f"{API}tasks/{task.pk}/runs/"):
        response = api.get(url, params)
        assert response.status_code in (200, 400, 404), (url, params, response.content[:300])
        if response.status_code == 400:
            assert set(response.json()["errors"]) <= set(NAMES), response.json()
        if response.status_code == 404:
            assert "page" in params  # only a page past the end


@pytest.mark.parametrize(
    "pk", ["0", "-1", "9" * 19, "9" * 60, "1.0", "0x1", "%C2%B2", "%00", "1%20", "abc"]
)
@pytest.mark.parametrize("path", ["tasks/{}/", "tasks/{}/runs/", "runs/{}/", "tasks/{}/run/"])
def test_any_id_is_a_json_404(api, task, path, pk):
    url = API + path.format(pk)
    response = api.post(url, {}, format="json") if url.endswith("/run/") else api.get(url)
    assert response.status_code == 404, (url, response.content[:200])
    assert response.json()["detail"]


@pytest.mark.parametrize("value", ["²", "١٢", "9" * 40])
def test_unicode_digits_in_the_admin_workflow_view_and_the_token_command(
    client, make_user, task, value
):
    from django.core.management import CommandError, call_command

    client.force_login(make_user(is_staff=True, is_superuser=True))
    url = f"/admin/scheduler_app/workflowrun/task/{task.pk}/"
    assert client.get(url, {"run": value}).status_code == 200
    response = client.post(url, {"action": "remove", "edge": value})
    assert response.status_code in (200, 302)
    with pytest.raises(CommandError, match="No token"):
        call_command("scheduler_token", "revoke", value)
