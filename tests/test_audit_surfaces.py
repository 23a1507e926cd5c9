"""Every action of the workflow surfaces records where it came from: approvals decided on the
pages, in the admin, by the e-mail link and through the API; edges changed in the admin's
workflow editor, on the module form, by an import and through the API; events emitted by an
inbound webhook. The admin's LogEntry says the same wherever the audit writes one."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import Approval, ScheduledTask, TaskAuditEvent, WorkflowEdge
from scheduler_app.services import approval_links, audit, inbound_hooks, transfer
from tests.test_views import post_data

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
API = "/api/scheduler/"
PERMS = (
    "scheduler_app.SA_SCHEDULER",
    "scheduler_app.SA_TESTMOD",
    "scheduler_app.SA_TESTMOD_ADMIN",
)


@pytest.fixture(autouse=True)
def inline(settings):
    settings.SCHEDULER = {**settings.SCHEDULER, "EXECUTION": "inline", "RETRY_JITTER": 0}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def person(make_user):
    """A staff member who may schedule test tasks and decide their approvals."""
    return make_user(*PERMS, username="pat", is_staff=True, email="pat@example.com")


@pytest.fixture
def approval(make_task, clock):
    step = make_task(
        "approval",
        module="workflow",
        name="Review",
        config={"title": "Publish?", "permission": "SA_TESTMOD_ADMIN", "channels": ["in_app"]},
        schedule_type="event",
        event="never",
        cron=None,
        max_retries=0,
        due=NOW,
    )
    run_pass(PassOptions())
    return Approval.objects.get(task=step)


@pytest.fixture
def pair(make_task, person):
    """Two tasks of ``person`` with an edge between them: ``first`` → ``second`` on success."""

    def own(name):
        return make_task(user=person, name=name, config={"note": name}, cron="0 6 * * *")

    first, second, third = own("First"), own("Second"), own("Third")
    WorkflowEdge.objects.create(source=first, target=second, condition="success")
    return first, second, third


def logged_in(client, user):
    client.force_login(user)
    return client


def api_as(user) -> APIClient:
    api = APIClient()
    api.force_login(user)
    return api


# -- approvals: one decision per surface ---------------------------------------------------


def decide_on_the_page(client, person, approval):
    url = reverse("scheduler_app:approval", args=[approval.pk])
    return logged_in(client, person).post(url, {"decision": "approve", "comment": "ok"})


def decide_in_the_admin(client, person, approval):
    url = reverse("admin:scheduler_app_approval_change", args=[approval.pk])
    return logged_in(client, person).post(url, {"decision": "approve", "comment": "ok"})


def decide_by_the_email_link(client, person, approval):
    token = approval_links.make_token(approval, person, "approve")
    url = reverse("scheduler_app:approval_link", args=[token])
    return logged_in(client, person).post(url, {"comment": "ok"})


def decide_through_the_api(client, person, approval):
    return api_as(person).post(
        f"{API}approvals/{approval.pk}/approve/", {"comment": "ok"}, format="json"
    )


@pytest.mark.parametrize(
    ("decide", "source", "where"),
    [
        (decide_on_the_page, "page", "Module page"),
        (decide_in_the_admin, "admin", "Admin"),
        (decide_by_the_email_link, "email", "E-mail link"),
        (decide_through_the_api, "api", "API"),
    ],
)
def test_an_approval_decision_records_its_surface(client, person, approval, decide, source, where):
    response = decide(client, person, approval)

    assert response.status_code in (200, 302), response.content[:500]
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.decided_by == person
    event = TaskAuditEvent.objects.get(task=approval.task, action="approved")
    assert (event.source, event.actor) == (source, person)
    entry = LogEntry.objects.filter(object_id=str(approval.task_id)).latest("pk")
    assert (entry.user, entry.change_message) == (person, f"Approved ({where})")


# -- edges: added, changed and removed through each surface ----------------------------------


def admin_editor(client, person, pair):
    first, second, third = pair
    url = reverse("admin:scheduler_app_workflowrun_task", args=[first.pk])
    client = logged_in(client, person)
    edge = WorkflowEdge.objects.get(source=first, target=second)
    client.post(
        url,
        {
            "action": "change",
            "edge": edge.pk,
            f"edge-{edge.pk}-condition": "failure",
            f"edge-{edge.pk}-target": second.pk,
        },
    )
    client.post(
        url,
        {
            "action": "add",
            "add-source": first.pk,
            "add-condition": "always",
            "add-target": third.pk,
        },
    )
    client.post(url, {"action": "remove", "edge": edge.pk})


def module_form(client, person, pair):
    first, second, third = pair
    url = reverse("scheduler_app:edit", args=[first.pk])
    client = logged_in(client, person)
    data = post_data(name="First", cron="0 6 * * *", timezone="UTC", max_retries="3")
    data.update({"config-note": "First", "enabled": "on", "timeout": "300", "edges-shown": "True"})
    # One post: second moves to "failure", third is added as "always".
    client.post(url, {**data, "edges-on_failure": [second.pk], "edges-always": [third.pk]})
    client.post(url, {**data, "edges-always": [third.pk]})  # and second is removed


def an_import(client, person, pair, tmp_path):
    first, second, third = pair
    data = transfer.export_schedules(user=person)
    entry = next(t for t in data["tasks"] if t["name"] == "First")
    ref = {"module": "testmod", "task_type": "record"}
    entry["edges"] = [{**ref, "name": "Second", "when": "failure"}]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data))
    call_command("scheduler_import", str(path), as_user="pat", stdout=StringIO())
    entry["edges"] = [{**ref, "name": "Third", "when": "always"}]
    path.write_text(json.dumps(data))
    call_command("scheduler_import", str(path), as_user="pat", stdout=StringIO())


def the_api(client, person, pair):
    first, second, third = pair
    api = api_as(person)
    # The API sets the success edges (on_success): change, then add and remove at once.
    api.patch(f"{API}tasks/{first.pk}/", {"on_success": [second.pk, third.pk]}, format="json")
    api.patch(f"{API}tasks/{first.pk}/", {"on_success": [third.pk]}, format="json")


def edge_changes(task: ScheduledTask) -> list[TaskAuditEvent]:
    found = TaskAuditEvent.objects.filter(task=task, action="edited").order_by("pk")
    return [e for e in found if {"edges", "on_success"} & set(e.changes)]


@pytest.mark.parametrize(
    ("surface", "source", "where"),
    [
        (admin_editor, "admin", "Admin"),
        (module_form, "page", "Module page"),
        (an_import, "import", "Import"),
        (the_api, "api", "API"),
    ],
)
def test_edge_changes_record_their_surface(client, person, pair, tmp_path, surface, source, where):
    first, second, third = pair
    if surface is an_import:
        surface(client, person, pair, tmp_path)
    else:
        surface(client, person, pair)

    assert set(WorkflowEdge.objects.filter(source=first).values_list("target_id", flat=True)) == {
        third.pk
    }
    events = edge_changes(first)
    assert len(events) >= 2  # at least an addition and a removal
    assert {(e.source, e.actor) for e in events} == {(source, person)}
    entries = LogEntry.objects.filter(object_id=str(first.pk), action_flag=2).order_by("pk")
    assert entries.count() >= len(events)
    assert all(e.user == person for e in entries)
    fields = {f for e in entries for f in json.loads(e.change_message)[0]["changed"]["fields"]}
    assert fields & {"edges", "on_success"}


# -- inbound webhooks ---------------------------------------------------------------------------


def test_an_inbound_webhook_records_the_tasks_it_triggers_from_a_webhook(
    client, clock, make_task, django_capture_on_commit_callbacks
):
    event = "shop.order.paid"
    listener = make_task("record_payload", schedule_type="event", event=event, cron=None)
    other = make_task("record_payload", schedule_type="event", event="another", cron=None)
    hook, secret = inbound_hooks.create_hook(user=None, event=event)
    body = json.dumps({"order": 7}).encode()
    signature = inbound_hooks.sign(secret, body, timestamp=int(NOW.timestamp()))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/scheduler/hooks/{event}/",
            data=body,
            content_type="application/json",
            HTTP_X_SCHEDULER_SIGNATURE=signature,
        )

    assert response.status_code == 202
    [triggered] = TaskAuditEvent.objects.filter(action="triggered")
    assert (triggered.task, triggered.source, triggered.actor) == (listener, "webhook", None)
    assert triggered.changes == {"event": [None, event]}
    assert not TaskAuditEvent.objects.filter(task=other, action="triggered").exists()
    # A webhook is nobody's account: no admin LogEntry, as for the system's other events.
    assert not LogEntry.objects.filter(object_id=str(listener.pk)).exclude(action_flag=1).exists()


def test_an_event_emitted_by_code_is_not_on_the_trail(
    make_task, django_capture_on_commit_callbacks
):
    make_task("record_payload", schedule_type="event", event="saved", cron=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.emit("saved", {"row": 1})
    assert not TaskAuditEvent.objects.filter(action="triggered").exists()
    with django_capture_on_commit_callbacks(execute=True), audit.acting_from("command"):
        services.emit("saved", {"row": 2})
    assert TaskAuditEvent.objects.get(action="triggered").source == "command"
