"""Inbound webhooks: signed deliveries emit their event; every other request is a 4xx, logged."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_app.models import DeliveryOutcome, HookDelivery, HookNonce, InboundHook, PendingEvent
from scheduler_app.services import inbound_hooks

EVENT = "shop.order.paid"
URL = f"/scheduler/hooks/{EVENT}/"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
T = int(NOW.timestamp())


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def hook(db):
    hook, secret = inbound_hooks.create_hook(user=None, event=EVENT)
    hook.plain_secret = secret
    return hook


@pytest.fixture
def listener(make_task):
    return make_task("record_payload", schedule_type="event", event=EVENT, cron=None)


def post(client, body: bytes, signature: str | None, url: str = URL, **extra):
    headers = {"HTTP_X_SCHEDULER_SIGNATURE": signature} if signature is not None else {}
    return client.post(url, data=body, content_type="application/json", **headers, **extra)


def deliver(client, hook, payload, *, timestamp: int = T, secret: str | None = None):
    body = json.dumps(payload).encode()
    return post(
        client, body, inbound_hooks.sign(secret or hook.plain_secret, body, timestamp=timestamp)
    )


def emitted() -> list[dict]:
    return list(PendingEvent.objects.order_by("pk").values_list("payload", flat=True))


def last_delivery() -> HookDelivery:
    return HookDelivery.objects.order_by("-pk").first()


# --- valid ------------------------------------------------------------------------


def test_a_signed_delivery_emits_its_event_with_the_body_as_payload(
    client, clock, hook, listener, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, hook, {"order": 7})

    assert response.status_code == 202
    assert response.json() == {"accepted": True, "outcome": "accepted", "detail": "Accepted."}
    assert emitted() == [{"order": 7}]
    row = last_delivery()
    assert (row.hook, row.event, row.outcome, row.status_code) == (hook, EVENT, "accepted", 202)
    assert row.body_size == len(b'{"order": 7}') and row.remote_addr == "127.0.0.1"
    assert row.received_at == NOW


def test_a_timestamp_within_the_window_either_way_is_accepted(
    client, clock, hook, listener, settings, django_capture_on_commit_callbacks
):
    settings.SCHEDULER = {**settings.SCHEDULER, "HOOKS_WINDOW": 60}
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, hook, {"n": 1}, timestamp=T - 60).status_code == 202
        assert deliver(client, hook, {"n": 2}, timestamp=T + 60).status_code == 202
    assert emitted() == [{"n": 1}, {"n": 2}]


# --- refused: nothing emitted, a 4xx with a JSON reason, logged --------------------


def assert_refused(response, status: int, outcome: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["accepted"] is False and body["outcome"] == outcome and body["detail"]
    assert not PendingEvent.objects.exists()
    row = last_delivery()
    assert (row.outcome, row.status_code) == (outcome, status)
    assert row.reason == body["detail"]


def test_a_bad_signature_is_refused(client, clock, hook, listener):
    body = b'{"order": 7}'
    wrong = inbound_hooks.sign("not-the-secret", body, timestamp=T)
    assert_refused(post(client, body, wrong), 401, DeliveryOutcome.BAD_SIGNATURE)
    assert not HookNonce.objects.exists()


def test_an_unsigned_request_is_refused(client, clock, hook, listener):
    response = post(client, b'{"order": 7}', None)
    assert_refused(response, 401, DeliveryOutcome.UNSIGNED)
    assert "X-Scheduler-Signature" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=1,v1=xyz", "t=abc,v1=" + "0" * 64, "garbage", "t=1", "t=1,t=2,v1=" + "0" * 64],
)
def test_a_malformed_signature_header_is_refused_with_its_reason(
    client, clock, hook, listener, header
):
    assert_refused(post(client, b"{}", header), 401, DeliveryOutcome.BAD_SIGNATURE)


def test_a_stale_timestamp_is_refused_even_well_signed(client, clock, hook, listener):
    response = deliver(client, hook, {"order": 7}, timestamp=T - 301)
    assert_refused(response, 401, DeliveryOutcome.STALE)
    assert_refused(deliver(client, hook, {"order": 7}, timestamp=T + 301), 401, "stale")


def test_a_replay_within_the_window_is_refused(
    client, clock, hook, listener, django_capture_on_commit_callbacks
):
    body = b'{"order": 7}'
    header = inbound_hooks.sign(hook.plain_secret, body, timestamp=T)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body, header).status_code == 202
    clock.shift(dt.timedelta(seconds=200))
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, header)
    assert response.status_code == 409 and response.json()["outcome"] == "replayed"
    assert emitted() == [{"order": 7}]  # once
    assert last_delivery().outcome == "replayed"


def test_a_replay_after_the_window_is_stale_and_old_nonces_are_pruned(
    client, clock, hook, listener, django_capture_on_commit_callbacks
):
    body = b'{"order": 7}'
    header = inbound_hooks.sign(hook.plain_secret, body, timestamp=T)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body, header).status_code == 202
    clock.shift(dt.timedelta(seconds=301))
    assert_refused_after = post(client, body, header)
    assert assert_refused_after.status_code == 401
    assert assert_refused_after.json()["outcome"] == "stale"
    clock.shift(dt.timedelta(seconds=400))
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, hook, {"order": 8}, timestamp=T + 701).status_code == 202
    assert HookNonce.objects.count() == 1  # the first one is older than two windows


def test_the_same_message_signed_with_the_previous_secret_is_still_a_replay(
    client, clock, hook, listener, django_capture_on_commit_callbacks
):
    old = hook.plain_secret
    new = inbound_hooks.rotate_secret(hook, user=None)
    body = b'{"order": 7}'
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body, inbound_hooks.sign(old, body, timestamp=T)).status_code == 202
        response = post(client, body, inbound_hooks.sign(new, body, timestamp=T))
    assert response.status_code == 409
    assert emitted() == [{"order": 7}]


def test_an_oversized_body_is_refused_before_it_is_read(client, clock, hook, listener, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "HOOKS_MAX_BODY": 100}
    body = json.dumps({"text": "x" * 200}).encode()
    response = post(client, body, inbound_hooks.sign(hook.plain_secret, body, timestamp=T))
    assert_refused(response, 413, DeliveryOutcome.TOO_LARGE)
    assert "100 bytes" in response.json()["detail"]
    assert last_delivery().body_size == len(body)  # as declared; not read


def test_a_body_longer_than_its_declared_length_is_cut_at_the_bound(
    clock, hook, listener, settings
):
    from django.test import RequestFactory

    from scheduler_app.views.hooks import receive

    settings.SCHEDULER = {**settings.SCHEDULER, "HOOKS_MAX_BODY": 100}
    body = b'{"text": "' + b"x" * 200 + b'"}'
    request = RequestFactory().post(URL, data=body, content_type="application/json")
    request.META["CONTENT_LENGTH"] = "10"  # a sender that lies about the length
    request.META["HTTP_X_SCHEDULER_SIGNATURE"] = inbound_hooks.sign(
        hook.plain_secret, body, timestamp=T
    )
    response = receive(request, EVENT)
    assert response.status_code == 413
    assert not PendingEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "detail"),
    [(b"not json", "not valid JSON"), (b"[1, 2]", "JSON object"), (b"\xff\xfe", "not valid")],
)
def test_a_body_that_is_not_a_json_object_is_a_400(client, clock, hook, listener, body, detail):
    response = post(client, body, inbound_hooks.sign(hook.plain_secret, body, timestamp=T))
    assert_refused(response, 400, DeliveryOutcome.BAD_BODY)
    assert detail in response.json()["detail"]
    assert not HookNonce.objects.exists()


def test_an_unknown_or_disabled_event_is_a_404(client, clock, hook, listener):
    body = b"{}"
    header = inbound_hooks.sign(hook.plain_secret, body, timestamp=T)
    response = post(client, body, header, url="/scheduler/hooks/no.such.event/")
    assert_refused(response, 404, DeliveryOutcome.UNKNOWN_EVENT)
    assert last_delivery().hook is None and last_delivery().event == "no.such.event"
    InboundHook.objects.filter(pk=hook.pk).update(enabled=False)
    assert_refused(post(client, body, header), 404, DeliveryOutcome.UNKNOWN_EVENT)


def test_a_get_is_a_405_with_allow(client, clock, hook, listener):
    response = client.get(URL)
    assert response["Allow"] == "POST"
    assert_refused(response, 405, DeliveryOutcome.WRONG_METHOD)


def test_a_hook_without_a_secret_accepts_nothing(client, clock, hook, listener):
    InboundHook.objects.filter(pk=hook.pk).update(secret="")
    assert_refused(deliver(client, hook, {"a": 1}), 401, DeliveryOutcome.BAD_SIGNATURE)


def test_a_payload_emit_refuses_is_a_400_and_leaves_no_nonce(client, clock, hook, listener):
    deep: dict = {}
    inner = deep
    for _ in range(200):
        inner["a"] = {}
        inner = inner["a"]
    response = deliver(client, hook, deep)
    assert_refused(response, 400, DeliveryOutcome.BAD_BODY)
    assert not HookNonce.objects.exists()


# --- tampering: any change to body, timestamp or signature is refused ---------------


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    payload=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4),
    part=st.sampled_from(["body", "timestamp", "signature"]),
    position=st.integers(min_value=0, max_value=10_000),
    delta=st.integers(min_value=1, max_value=255),
)
def test_any_tampering_is_refused_and_emits_nothing(
    client, hook, listener, django_capture_on_commit_callbacks, payload, part, position, delta
):
    body = json.dumps(payload).encode()
    sig = inbound_hooks.signature(hook.plain_secret, T, body)
    timestamp = T
    if part == "body":
        mutable = bytearray(body)
        mutable[position % len(mutable)] ^= delta
        body = bytes(mutable)
    elif part == "timestamp":
        timestamp = T + (delta if position % 2 else -delta)
    else:
        digits = "0123456789abcdef"
        index = position % len(sig)
        replacement = digits[(digits.index(sig[index]) + delta % 15 + 1) % 16]
        sig = sig[:index] + replacement + sig[index + 1 :]
    before = HookDelivery.objects.count()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, f"t={timestamp},v1={sig}")
    assert response.status_code == 401, response.json()
    assert response.json()["outcome"] == "bad_signature"
    assert not PendingEvent.objects.exists()
    assert HookDelivery.objects.count() == before + 1


# --- secrets: rotation with an overlap, masking, who may ---------------------------


def test_rotation_keeps_the_old_secret_for_the_overlap_only(
    client, clock, hook, listener, settings, django_capture_on_commit_callbacks
):
    settings.SCHEDULER = {**settings.SCHEDULER, "HOOKS_SECRET_OVERLAP": 600}
    old = hook.plain_secret
    new = inbound_hooks.rotate_secret(hook, user=None)
    assert new != old and hook.secret == new
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, hook, {"n": 1}, secret=old).status_code == 202
        assert deliver(client, hook, {"n": 2}, secret=new).status_code == 202
    clock.shift(dt.timedelta(seconds=601))
    later = T + 601
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, hook, {"n": 3}, secret=old, timestamp=later).status_code == 401
        assert deliver(client, hook, {"n": 4}, secret=new, timestamp=later).status_code == 202
    assert [p["n"] for p in emitted()] == [1, 2, 4]


def test_rotation_without_overlap_drops_the_old_secret_at_once(client, clock, hook, listener):
    old = hook.plain_secret
    inbound_hooks.rotate_secret(hook, user=None, overlap=0)
    assert deliver(client, hook, {"n": 1}, secret=old).status_code == 401
    with pytest.raises(ValidationError):
        inbound_hooks.rotate_secret(hook, user=None, overlap=-1)


def test_the_secret_is_shown_masked(hook):
    assert hook.masked_secret.startswith(hook.plain_secret[:4])
    assert hook.plain_secret[4:] not in hook.masked_secret
    assert str(hook) == EVENT


def test_only_scheduler_admins_manage_hooks(make_user, hook):
    user = make_user("scheduler_app.SA_SCHEDULER")
    admin = make_user("scheduler_app.SA_SCHEDULER_ADMIN")
    with pytest.raises(PermissionDenied):
        inbound_hooks.create_hook(user=user, event="other.event")
    with pytest.raises(PermissionDenied):
        inbound_hooks.rotate_secret(hook, user=user)
    created, secret = inbound_hooks.create_hook(user=admin, event="other.event")
    assert created.secret == secret and len(secret) >= 40


@pytest.mark.parametrize("event", ["", "has space", "-dash-first", "x" * 121, "slash/in"])
def test_a_bad_event_name_is_a_field_error(db, event):
    with pytest.raises(ValidationError) as caught:
        inbound_hooks.create_hook(user=None, event=event)
    assert "event" in caught.value.message_dict


def test_a_taken_event_name_is_a_field_error(hook):
    with pytest.raises(ValidationError) as caught:
        inbound_hooks.create_hook(user=None, event=EVENT)
    assert "event" in caught.value.message_dict


# --- the log stays bounded ----------------------------------------------------------


def test_the_delivery_log_keeps_the_newest_rows_only(client, clock, hook, settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "HOOKS_LOG_MAX": 5}
    for _ in range(8):
        post(client, b"{}", None)
    assert HookDelivery.objects.count() == 5


def test_prune_deletes_deliveries_older_than_the_log_retention(client, clock, hook):
    post(client, b"{}", None)
    clock.shift(dt.timedelta(days=31))
    post(client, b"{}", None)
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("scheduler_prune", stdout=out)
    assert HookDelivery.objects.count() == 1
    assert "Deleted 1 webhook delivery" in out.getvalue()


# --- system checks, command, admin --------------------------------------------------


def check_ids(settings_value: dict | None = None, **kwargs) -> list[str]:
    from scheduler_app.checks import inbound_hooks

    return [m.id for m in inbound_hooks.check_hook_settings()]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOOKS_WINDOW", 0),
        ("HOOKS_WINDOW", "300"),
        ("HOOKS_WINDOW", True),
        ("HOOKS_WINDOW", 86401),
        ("HOOKS_MAX_BODY", 1),
        ("HOOKS_SECRET_OVERLAP", -1),
        ("HOOKS_LOG_MAX", 0),
    ],
)
def test_a_bad_hook_setting_is_e060_with_a_hint(settings, name, value):
    from scheduler_app.checks import inbound_hooks

    settings.SCHEDULER = {**settings.SCHEDULER, name: value}
    [message] = inbound_hooks.check_hook_settings()
    assert message.id == "scheduler_app.E060" and name in message.msg and message.hint


def test_the_default_hook_settings_pass_the_check():
    from scheduler_app.checks import inbound_hooks

    assert inbound_hooks.check_hook_settings() == []


def test_an_enabled_hook_without_a_secret_is_w060_naming_it(hook):
    from scheduler_app.checks import inbound_hooks

    assert inbound_hooks.check_hook_secrets(databases=["default"]) == []
    InboundHook.objects.filter(pk=hook.pk).update(secret="")
    [message] = inbound_hooks.check_hook_secrets(databases=["default"])
    assert message.id == "scheduler_app.W060"
    assert f"#{hook.pk}" in message.msg and EVENT in message.msg and "rotate" in message.hint
    assert inbound_hooks.check_hook_secrets(databases=None) == []


def test_the_command_makes_and_rotates_a_hook_and_prints_the_secret_once(db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("scheduler_hook_secret", "crm.lead", "--create", stdout=out, stderr=StringIO())
    first = out.getvalue().strip()
    assert InboundHook.objects.get(event="crm.lead").secret == first
    out = StringIO()
    call_command("scheduler_hook_secret", "crm.lead", "--rotate", stdout=out, stderr=StringIO())
    hook = InboundHook.objects.get(event="crm.lead")
    assert hook.secret == out.getvalue().strip() != first and hook.previous_secret == first
    with pytest.raises(CommandError, match="No inbound webhook"):
        call_command("scheduler_hook_secret", "nope", "--rotate")
    with pytest.raises(CommandError, match="^Use letters, digits"):
        call_command("scheduler_hook_secret", "bad name", "--create")


def test_the_admin_shows_a_new_secret_once_and_masks_it_after(client, make_user):
    admin_user = make_user("scheduler_app.SA_SCHEDULER_ADMIN", is_staff=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/scheduler_app/inboundhook/add/",
        {"event": "shop.refund", "description": "refunds", "enabled": "on"},
    )
    hook = InboundHook.objects.get(event="shop.refund")
    assert response.status_code == 200
    assert hook.secret in response.content.decode()
    listing = client.get("/admin/scheduler_app/inboundhook/").content.decode()
    assert hook.secret not in listing and hook.masked_secret in listing
    response = client.post(
        "/admin/scheduler_app/inboundhook/",
        {"action": "rotate_secret", "_selected_action": [hook.pk]},
    )
    old = hook.secret
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in response.content.decode()
    assert hook.previous_secret == old


def test_the_delivery_log_is_read_only_and_hooks_are_for_scheduler_admins(
    client, make_user, clock, hook
):
    post(client, b"{}", None)
    viewer = make_user("scheduler_app.SA_SCHEDULER_VIEW", is_staff=True)
    client.force_login(viewer)
    page = client.get("/admin/scheduler_app/hookdelivery/?outcome=unsigned")
    assert page.status_code == 200 and "Unsigned" in page.content.decode()
    row = HookDelivery.objects.get()
    assert client.get(f"/admin/scheduler_app/hookdelivery/{row.pk}/delete/").status_code == 403
    assert client.get("/admin/scheduler_app/hookdelivery/add/").status_code == 403
    assert client.get("/admin/scheduler_app/inboundhook/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_same_delivery_racing_in_several_threads_is_accepted_once(listener):
    import threading

    from django.db import connection

    hook, secret = inbound_hooks.create_hook(user=None, event=EVENT)
    body = b'{"order": 99}'
    request = inbound_hooks.Request(
        event=EVENT, body=body, signature=inbound_hooks.sign(secret, body, timestamp=T)
    )
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver_once() -> None:
        try:
            barrier.wait()
            outcomes.append(inbound_hooks.receive(request, now=NOW).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["accepted", "replayed", "replayed", "replayed"]
    assert emitted() == [{"order": 99}]
    assert HookDelivery.objects.count() == 4
