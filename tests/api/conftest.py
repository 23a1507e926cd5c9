"""Fixtures of the HTTP API tests: clients logged in by session or by token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from scheduler_app.api import tokens
from scheduler_app.policy import permissions

# The permission matrix's fixtures (its scene: a task, a role, the sharing), reused as they are.
from tests.test_permissions_matrix import other_module, scene  # noqa: F401

API = "/api/scheduler/"
BASE = "scheduler_app.SA_TESTMOD"


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    """Throttling has its own tests; elsewhere many requests in a row are the point."""
    settings.SCHEDULER = {**settings.SCHEDULER, "API_THROTTLE_RATES": None}


@pytest.fixture
def client_for():
    """An APIClient acting as ``user`` (session login, CSRF checks off as in DRF's test client)."""

    def build(user=None, *, token_scope: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None and token_scope:
            _token, secret = tokens.issue(user, scope=token_scope)
            client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        elif user is not None:
            client.force_login(user)
        return client

    return build


@pytest.fixture
def scheduler_user(make_user):
    """May schedule testmod tasks (SA_SCHEDULER + the module's base permission)."""
    return make_user(permissions.SCHEDULER, BASE)


@pytest.fixture
def api(client_for, scheduler_user):
    return client_for(scheduler_user)


def task_body(**overrides) -> dict:
    body = {
        "module": "testmod",
        "task_type": "record",
        "schedule_type": "cron",
        "cron": "0 6 * * *",
        "timezone": "Europe/Berlin",
        "config": {"note": "hello"},
    }
    body.update(overrides)
    return body
