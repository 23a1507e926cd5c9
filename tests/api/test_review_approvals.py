"""Review probes of approvals: any JSON body to approve/reject, any list query, every role,
the pages' form and the e-mail link; bad input is a 4xx and the request stays open."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app import services
from scheduler_app.models import Approval, ApprovalStatus
from scheduler_app.services import approval_links
from tests.api.conftest import API

FIXTURES = [HealthCheck.function_scoped_fixture]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture
def approver(make_user):
    return make_user("scheduler_app.SA_TESTMOD_ADMIN", username="approver")


@pytest.fixture
def approval(make_task):
    step = make_task("noop", name="Review")
    return Approval.objects.create(
        task=step,
        title="Publish?",
        permission="scheduler_app.SA_TESTMOD_ADMIN",
        requested_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )


def still_open(approval: Approval) -> bool:
    approval.refresh_from_db()
    return approval.status == ApprovalStatus.PENDING and approval.comment == ""


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(body=JSON | st.dictionaries(st.sampled_from(["comment"]), JSON, min_size=1))
def test_any_json_body_that_is_not_a_comment_is_a_400_and_decides_nothing(
    client_for, approval, approver, body
):
    valid = body == {} or (
        isinstance(body, dict)
        and set(body) == {"comment"}
        and isinstance(body["comment"], str)
        and "\x00" not in body["comment"]
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in body["comment"])
    )
    if valid:
        return  # a decision; the class probed here is what must be refused
    for decision in ("approve", "reject"):
        response = client_for(approver).post(
            f"{API}approvals/{approval.pk}/{decision}/",
            json.dumps(body),
            content_type="application/json",
        )
        assert response.status_code == 400, (body, response.content[:300])
        assert response.json()["detail"]
        assert still_open(approval)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"coment": "typo"}, "coment"),  # an unknown field is named, not dropped
        ({"comment": "ok", "decision": "reject"}, "decision"),
        ({"comment": "a\x00b"}, "comment"),
        ({"comment": "\ud800"}, "comment"),
        ({"comment": "x" * 2001}, "comment"),
        ({"comment": 5}, "comment"),
    ],
)
def test_a_bad_decision_body_names_its_field(client_for, approval, approver, body, field):
    response = client_for(approver).post(
        f"{API}approvals/{approval.pk}/approve/",
        json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["errors"]
    assert still_open(approval)


@pytest.mark.parametrize(
    "raw", [b"not json", b"[1, 2]", b'{"comment": ' + b"[" * 5000 + b"]" * 5000 + b"}", b"\xff"]
)
def test_malformed_bodies_are_a_400(client_for, approval, approver, raw):
    response = client_for(approver).post(
        f"{API}approvals/{approval.pk}/approve/", raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content[:300]
    assert still_open(approval)


def test_other_content_types_and_methods(client_for, approval, approver):
    api = client_for(approver)
    url = f"{API}approvals/{approval.pk}/approve/"
    assert (
        api.post(url, "comment=x", content_type="application/x-www-form-urlencoded").status_code
        == 415
    )
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api, method)(url)
        assert response.status_code == 405, method
        assert response.json()["detail"]
    assert still_open(approval)


@pytest.mark.parametrize("pk", ["0", "-1", "99999999999999999999999", "1e3", "%00", "٣", " 1"])
def test_any_id_that_names_no_visible_request_is_a_json_404(client_for, approval, approver, pk):
    response = client_for(approver).post(f"{API}approvals/{pk}/approve/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_every_role_gets_the_policys_answer(client_for, approval, approver, make_user):
    url = f"{API}approvals/{approval.pk}/approve/"
    assert client_for().post(url, {}, format="json").status_code == 401
    read_only = client_for(approver, token_scope="read")
    assert read_only.post(url, {}, format="json").status_code == 403
    assert read_only.get(f"{API}approvals/").status_code == 200
    guesser = make_user("scheduler_app.SA_SCHEDULER", username="guess")  # sees only its own tasks
    assert client_for(guesser).post(url, {}, format="json").status_code == 404
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", username="viewer")
    denied = client_for(viewer).post(url, {}, format="json")
    assert denied.status_code == 403 and denied.json()["detail"]
    assert still_open(approval)
    assert client_for(approver).post(url, {"comment": "fine"}, format="json").status_code == 200


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(
    params=st.dictionaries(
        st.sampled_from(["status", "module", "page", "page_size", "other"]),
        st.text(max_size=80),
        max_size=4,
    )
)
def test_any_list_query_is_a_200_or_a_400_naming_it(client_for, approval, approver, params):
    response = client_for(approver).get(f"{API}approvals/", params)
    assert response.status_code in (200, 400), (params, response.content[:300])
    if response.status_code == 400:
        assert set(response.json()["errors"]) <= {"status", "module", "page", "page_size"}


def test_a_nul_in_the_module_filter_is_a_400_in_the_api_and_nothing_on_the_page(
    client, client_for, approval, approver
):
    response = client_for(approver).get(f"{API}approvals/", {"module": "test\x00mod"})
    assert response.status_code == 400 and "module" in response.json()["errors"]
    client.force_login(approver)
    page = client.get("/scheduler/approvals/", {"module": "test\x00mod"})
    assert page.status_code == 200


@pytest.mark.parametrize("comment", ["a\x00b", "x" * 2001])
def test_the_page_form_refuses_a_bad_comment_with_a_400_and_decides_nothing(
    client, approval, approver, comment
):
    client.force_login(approver)
    response = client.post(
        f"/scheduler/approvals/{approval.pk}/", {"decision": "approve", "comment": comment}
    )
    assert response.status_code == 400
    assert still_open(approval)


def test_the_service_refuses_a_comment_postgresql_cannot_store(approval, approver):
    from django.core.exceptions import ValidationError

    for comment in ("a\x00b", "\udc80"):
        with pytest.raises(ValidationError) as refused:
            services.approve(approval, user=approver, comment=comment)
        assert "comment" in refused.value.message_dict
    assert still_open(approval)


@pytest.mark.parametrize(
    "token",
    ["", "x" * 501, "a:b:c", "%00", "e30:1:abc", "..", "1" * 500],
)
def test_a_forged_link_is_a_400_page(client, approval, approver, token):
    client.force_login(approver)
    response = client.get(f"/scheduler/approvals/link/{token}/")
    assert response.status_code in (400, 404)
    assert still_open(approval)


def test_a_link_for_someone_else_is_a_403_and_decides_nothing(
    client, approval, approver, make_user
):
    other = make_user("scheduler_app.SA_TESTMOD_ADMIN", username="other")
    token = approval_links.make_token(approval, approver, "approve")
    client.force_login(other)
    assert client.post(f"/scheduler/approvals/link/{token}/").status_code == 403
    assert still_open(approval)


def test_a_link_whose_person_may_no_longer_see_the_request_is_a_404_like_its_page(
    client, client_for, approval, approver
):
    token = approval_links.make_token(approval, approver, "approve")
    approver.user_permissions.clear()
    client.force_login(approver)
    assert client.get(f"/scheduler/approvals/{approval.pk}/").status_code == 404
    assert client_for(approver).post(f"{API}approvals/{approval.pk}/approve/").status_code == 404
    for method in ("get", "post"):
        response = getattr(client, method)(f"/scheduler/approvals/link/{token}/")
        assert response.status_code == 404, method
        assert b"Publish?" not in response.content
    assert still_open(approval)


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(
    ref=st.none() | st.booleans() | st.floats() | st.text(max_size=30) | st.just("9" * 5000),
    comment=st.none() | st.integers() | st.lists(st.text(), max_size=2) | st.text(max_size=20),
)
def test_the_services_take_any_reference_and_comment_with_a_field_error(
    approval, approver, ref, comment
):
    from django.core.exceptions import ValidationError

    try:
        services.reject(ref, user=approver, comment=comment)
    except ValidationError as error:
        assert set(error.message_dict) <= {"approval", "comment"}
        assert all(len(m) <= 300 for ms in error.message_dict.values() for m in ms)
    else:  # only a reference to the open request, with a text comment, decides it
        assert str(ref).strip() == str(approval.pk) and isinstance(comment, (str, type(None)))
        Approval.objects.filter(pk=approval.pk).update(
            status=ApprovalStatus.PENDING, decided_at=None, comment="", decided_by=None
        )


def test_the_approvals_page_reads_only_its_own_rows_however_many_are_open(
    client, approval, approver, django_assert_max_num_queries
):
    client.force_login(approver)
    client.get("/scheduler/approvals/")
    with django_assert_max_num_queries(30) as first:
        assert client.get("/scheduler/approvals/").status_code == 200
    Approval.objects.bulk_create(
        Approval(
            task=approval.task,
            title=f"more {n}",
            permission=approval.permission,
            requested_at=timezone.now(),
        )
        for n in range(120)
    )
    with django_assert_max_num_queries(len(first.captured_queries)) as second:
        response = client.get("/scheduler/approvals/")
    assert response.status_code == 200
    # Every read of the requests is bounded: one page (LIMIT) or the page's ids (IN).
    reads = [
        q["sql"]
        for q in second.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "scheduler_app_approval"' in q["sql"]
    ]
    unbounded = [
        q for q in reads if "LIMIT" not in q and '"id" IN (' not in q and "COUNT(" not in q
    ]
    assert reads and unbounded == []


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(
    form=st.dictionaries(
        st.sampled_from(["decision", "comment", "other"]),
        st.text(max_size=30) | st.sampled_from(["approve", "reject", "x" * 3000]),
        max_size=3,
    )
)
def test_any_form_posted_to_the_request_page_is_a_decision_or_a_400(
    client, approval, approver, form
):
    client.force_login(approver)
    response = client.post(f"/scheduler/approvals/{approval.pk}/", form)
    assert response.status_code in (302, 400), (form, response.status_code)
    if response.status_code == 400:
        assert still_open(approval)
    else:
        assert form.get("decision") in ("approve", "reject")
        Approval.objects.filter(pk=approval.pk).update(
            status=ApprovalStatus.PENDING, decided_at=None, comment="", decided_by=None
        )


def test_a_huge_decision_body_is_a_413_and_decides_nothing(client_for, approval, approver):
    body = json.dumps({"comment": "x" * (11 * 1024 * 1024)})
    response = client_for(approver).post(
        f"{API}approvals/{approval.pk}/approve/", body, content_type="application/json"
    )
    assert response.status_code == 413 and response.json()["detail"]
    assert still_open(approval)


def test_an_empty_module_filter_filters_nothing_as_on_the_tasks_list(
    client, client_for, approval, approver
):
    api = client_for(approver)
    assert api.get(f"{API}approvals/", {"module": ""}).json()["count"] == 1
    assert api.get(f"{API}tasks/", {"module": ""}).status_code == 200
    client.force_login(approver)
    assert b"Publish?" in client.get("/scheduler/approvals/", {"module": ""}).content
