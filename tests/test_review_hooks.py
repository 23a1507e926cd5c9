"""Review probes of inbound webhooks: any signed body, any header, any method, never a 500."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.models import HookDelivery, PendingEvent
from scheduler_app.services import inbound_hooks

EVENT = "shop.order.paid"
URL = f"/scheduler/hooks/{EVENT}/"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())
FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.fixture
def hook(db):
    hook, secret = inbound_hooks.create_hook(user=None, event=EVENT)
    hook.plain_secret = secret
    return hook


@pytest.fixture
def listener(make_task):
    return make_task("record_payload", schedule_type="event", event=EVENT, cron=None)


def signed_post(client, hook, body: bytes, **extra):
    header = inbound_hooks.sign(hook.plain_secret, body, timestamp=T)
    with time_machine.travel(NOW, tick=False):
        return client.post(
            URL,
            data=body,
            content_type="application/json",
            HTTP_X_SCHEDULER_SIGNATURE=header,
            **extra,
        )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,  # deeper than Python's recursion limit
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"a": "\\u0000"}',  # NUL: PostgreSQL refuses it in jsonb
        b'{"a": "\\ud800"}',  # a lone surrogate
        b'{"\\ud800": 1}',
        b'{"a": ' + b"9" * 5000 + b"}",  # longer than Python's int-from-text limit
        b'{"a": 1e999}',  # infinity once parsed
        b'{"a": NaN}',
        b"\xff\xfe{}",
        b'{"a": 1}\x00',
        b"[]",
        b"",
    ],
    ids=lambda body: repr(body[:16]),
)
def test_a_signed_but_unusable_body_is_a_400_and_emits_nothing(
    client, hook, listener, django_capture_on_commit_callbacks, body
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, hook, body)
    assert response.status_code == 400, response.content[:300]
    assert response.json()["outcome"] == "bad_body"
    assert response.json()["detail"]
    assert not PendingEvent.objects.exists()
    assert HookDelivery.objects.get().status_code == 400


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(
    body=st.binary(max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
        ),
        max_leaves=10,
    ).map(lambda value: json.dumps(value).encode())
)
def test_any_signed_body_is_accepted_or_a_400_and_only_an_object_emits(
    client, hook, listener, django_capture_on_commit_callbacks, body
):
    PendingEvent.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(client, hook, body)
    assert response.status_code in (202, 400, 409), response.content[:300]
    assert response.json()["detail"]
    if response.status_code != 202:
        assert not PendingEvent.objects.exists()


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=FIXTURES)
@given(header=st.text(max_size=1200))
def test_any_signature_header_is_a_401_never_a_500(client, hook, listener, header):
    header = header.encode("utf-8", "surrogatepass").decode("latin-1")
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            URL, data=b"{}", content_type="application/json", HTTP_X_SCHEDULER_SIGNATURE=header
        )
    assert response.status_code == 401, response.content[:300]
    assert not PendingEvent.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "head", "options", "trace"])
def test_every_other_method_is_a_405_with_allow(client, hook, listener, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    if method != "head":
        assert response.json()["outcome"] == "wrong_method"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_the_content_type_does_not_matter_only_the_signed_bytes(
    client, hook, listener, django_capture_on_commit_callbacks, content_type
):
    body = b'{"n": 1}'
    header = inbound_hooks.sign(hook.plain_secret, body, timestamp=T)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client.generic(
            "POST", URL, body, content_type=content_type, HTTP_X_SCHEDULER_SIGNATURE=header
        )
    assert response.status_code == 202, response.content
    assert list(PendingEvent.objects.values_list("payload", flat=True)) == [{"n": 1}]


@pytest.mark.parametrize("event", ["x" * 5000, "a%00b", "%ED%A0%80", "a b"])
def test_an_unknown_or_strange_event_name_is_a_404_logged_within_bounds(client, hook, event):
    response = client.post(
        f"/scheduler/hooks/{event}/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["outcome"] == "unknown_event"
    assert len(HookDelivery.objects.get().event) <= 120


@pytest.mark.parametrize(
    ("remote", "logged"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
        ("fe80::1%eth0", "fe80::1"),  # a link-local peer with its zone (PostgreSQL's inet has none)
        ("not an address", None),
        ("", None),
    ],
)
def test_any_peer_address_is_logged_as_an_address_or_none(client, hook, remote, logged):
    response = client.post(URL, data=b"{}", content_type="application/json", REMOTE_ADDR=remote)
    assert response.status_code == 401
    assert HookDelivery.objects.get().remote_addr == logged


@pytest.mark.parametrize("overlap", [-1, 30 * 86400 + 1, 10**20, 1.5, True, "60"])
def test_a_rotation_overlap_out_of_range_is_a_field_error_and_keeps_the_secret(hook, overlap):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        inbound_hooks.rotate_secret(hook, user=None, overlap=overlap)
    assert "overlap" in refused.value.message_dict
    hook.refresh_from_db()
    assert hook.secret == hook.plain_secret


def test_the_command_says_so_in_one_line_for_a_huge_overlap(hook):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="overlap"):
        call_command("scheduler_hook_secret", EVENT, "--rotate", "--overlap", str(10**20))
