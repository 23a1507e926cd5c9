"""Session (with CSRF) and token authentication, read-only tokens, throttling, token management."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from scheduler_app.api import tokens
from scheduler_app.api.models import ApiToken
from scheduler_app.models import ScheduledTask
from tests.api.conftest import API, task_body


def test_without_credentials_the_answer_is_401_with_a_challenge(db):
    response = APIClient().get(f"{API}tasks/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    "header",
    ["Token nope", "Token", "Token a b", "Bearer " + "x" * 300, "Token \u00e9t\u00e9"],
)
def test_bad_tokens_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(f"{API}tasks/").status_code == 401


def test_a_token_acts_as_its_user_until_revoked(client_for, scheduler_user, make_task):
    make_task(owner=scheduler_user)
    token, secret = tokens.issue(scheduler_user, scope="write", name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{API}tasks/").json()["count"] == 1
    assert client.post(f"{API}tasks/", task_body(), format="json").status_code == 201
    token.refresh_from_db()
    assert token.last_used_at is not None and token.digest != secret
    assert tokens.revoke(ApiToken.objects.filter(pk=token.pk), user=scheduler_user) == 1
    assert client.get(f"{API}tasks/").status_code == 401


def test_a_token_of_an_inactive_user_is_refused(client_for, scheduler_user):
    client = client_for(scheduler_user, token_scope="write")
    scheduler_user.is_active = False
    scheduler_user.save()
    assert client.get(f"{API}tasks/").status_code == 401


def test_a_read_only_token_may_only_read(client_for, scheduler_user, make_task):
    task = make_task(owner=scheduler_user)
    client = client_for(scheduler_user, token_scope="read")
    assert client.get(f"{API}tasks/{task.pk}/").status_code == 200
    assert client.get(f"{API}status/").status_code == 200
    for response in (
        client.post(f"{API}tasks/", task_body(cron="5 * * * *"), format="json"),
        client.post(f"{API}tasks/{task.pk}/pause/"),
        client.patch(f"{API}tasks/{task.pk}/", {"name": "x"}, format="json"),
        client.delete(f"{API}tasks/{task.pk}/"),
        client.post(f"{API}cron/validate/", {"expression": "* * * * *"}, format="json"),
    ):
        assert response.status_code == 403
        assert "read-only" in response.json()["detail"]
    assert ScheduledTask.objects.get(pk=task.pk).status == "pending"
    assert ScheduledTask.objects.count() == 1


def test_session_writes_need_the_csrf_token(scheduler_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(scheduler_user)
    assert client.get(f"{API}tasks/").status_code == 200
    response = client.post(f"{API}tasks/", task_body(), format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not ScheduledTask.objects.exists()
    client.get("/admin/login/")  # sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(f"{API}tasks/", task_body(), format="json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201


def test_tokens_need_no_csrf_token(db, scheduler_user):
    _token, secret = tokens.issue(scheduler_user, scope="write")
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.post(f"{API}tasks/", task_body(), format="json").status_code == 201


def test_throttling_follows_the_setting(settings, client_for, scheduler_user):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "API_THROTTLE_RATES": {"read": "3/minute", "write": None},
    }
    client = client_for(scheduler_user)
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        assert [client.get(f"{API}status/").status_code for _ in range(4)] == [200, 200, 200, 429]
        response = client.get(f"{API}tasks/")
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
        response = client.post(f"{API}cron/validate/", {"expression": "@daily"}, format="json")
        assert response.status_code == 200  # writes are not throttled (None)
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, 1, 1, tzinfo=dt.UTC), tick=False):
        assert client.get(f"{API}status/").status_code == 200


def test_the_command_creates_lists_and_revokes_tokens(scheduler_user, capsys):
    call_command("scheduler_token", "create", scheduler_user.username, "--scope", "write")
    secret = capsys.readouterr().out.strip()
    token = tokens.authenticate(secret)
    assert token is not None and token.scope == "write" and token.user == scheduler_user
    call_command("scheduler_token", "list", scheduler_user.username)
    assert token.prefix in capsys.readouterr().out
    call_command("scheduler_token", "revoke", secret[:8])
    assert tokens.authenticate(secret) is None
    with pytest.raises(CommandError, match="No user"):
        call_command("scheduler_token", "create", "nobody")
    with pytest.raises(CommandError, match="No token"):
        call_command("scheduler_token", "revoke", "zzzzzzzz")


def test_the_admin_makes_a_token_and_shows_the_secret_once(make_user, client):
    admin = make_user(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        "/admin/scheduler_api/apitoken/add/",
        {"user": admin.pk, "name": "monitor", "scope": "read"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    secret = next(m for m in shown if "shown this once" in m).split(": ", 1)[1].split(" ")[0]
    assert tokens.authenticate(secret) == token
    client.post(
        "/admin/scheduler_api/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert tokens.authenticate(secret) is None


def test_a_secret_is_letters_and_digits_so_the_command_line_can_take_its_prefix(scheduler_user):
    # A secret starting with "-" made `scheduler_token revoke PREFIX` read it as an option.
    for _ in range(50):
        _token, secret = tokens.issue(scheduler_user, scope="read")
        assert secret.isalnum() and secret.isascii() and len(secret) == 43
