"""The e-mail's one-click links (valid, forged, expired, reused) and the approval pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from scheduler_app import services
from scheduler_app.engine.passes import PassOptions, run_pass
from scheduler_app.models import Approval, ApprovalStatus
from scheduler_app.services import approval_links

START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def inline(settings):
    settings.SCHEDULER = {
        **settings.SCHEDULER,
        "EXECUTION": "inline",
        "RETRY_JITTER": 0,
        "APPROVAL_LINK_MAX_AGE": 3600,
        "APPROVAL_LINK_BASE_URL": "https://scheduler.example.com",
    }


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def approver(make_user):
    return make_user(
        "scheduler_app.SA_TESTMOD_ADMIN", username="approver", email="approver@example.com"
    )


@pytest.fixture
def approval(make_task, clock, approver):
    """An open request, opened by running its step once."""
    step = make_task(
        "approval",
        module="workflow",
        name="Review",
        config={"title": "Publish?", "permission": "SA_TESTMOD_ADMIN", "channels": ["email"]},
        schedule_type="event",
        event="never",
        cron=None,
        max_retries=0,
        due=START,
    )
    run_pass(PassOptions())
    return Approval.objects.get(task=step)


def links_in(message) -> dict[str, str]:
    found = dict(re.findall(r"(Approve|Reject): (\S+)", message.body))
    return {k.lower(): v.replace("https://scheduler.example.com", "") for k, v in found.items()}


@pytest.mark.django_db(transaction=True)
def test_the_email_link_confirms_then_decides_once(client, approval, approver, clock):
    [message] = mail.outbox
    assert "https://scheduler.example.com/scheduler/approvals/link/" in message.body
    link = links_in(message)["approve"]
    client.force_login(approver)

    page = client.get(link)  # opening the link changes nothing: it asks to confirm
    assert page.status_code == 200 and b"Confirm that you approve" in page.content
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING

    clock.shift(dt.timedelta(minutes=1))
    done = client.post(link, {"comment": "From my phone"})
    assert done.status_code == 302
    approval.refresh_from_db()
    assert (approval.status, approval.decided_by, approval.comment) == (
        ApprovalStatus.APPROVED,
        approver,
        "From my phone",
    )

    again = client.post(link, {"comment": "again"})  # reused: refused, nothing changes
    assert again.status_code == 400 and b"already decided" in again.content
    other = client.post(links_in(message)["reject"])
    assert other.status_code == 400
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED and approval.comment == "From my phone"


@pytest.mark.django_db(transaction=True)
def test_a_forged_or_altered_link_is_refused(client, approval, approver):
    client.force_login(approver)
    link = links_in(mail.outbox[0])["approve"]
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = reverse("scheduler_app:approval_link", args=[token[:-3] + "abc"])
    response = client.post(forged)
    assert response.status_code == 400 and b"not valid" in response.content
    made_up = reverse("scheduler_app:approval_link", args=["x" * 600])
    assert client.post(made_up).status_code == 400
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_an_expired_link_is_refused(client, approval, approver, clock):
    client.force_login(approver)
    link = links_in(mail.outbox[0])["reject"]
    clock.shift(dt.timedelta(seconds=3601))
    response = client.post(link)
    assert response.status_code == 400 and b"expired" in response.content
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_link_works_only_for_the_person_it_was_sent_to_and_the_policy_still_holds(
    client, approval, approver, make_user
):
    link = links_in(mail.outbox[0])["approve"]
    assert client.get(link).status_code == 302  # not logged in: to the login page
    client.force_login(make_user("scheduler_app.SA_TESTMOD_ADMIN", username="colleague"))
    assert client.post(link).status_code == 403
    # The person loses the permission after the e-mail was sent: the click is refused, and
    # as they may no longer see the request, it is a 404 (as on its page and in the API).
    approver.user_permissions.clear()
    client.force_login(approver)
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_pages_list_and_decide_with_the_same_policy(client, approval, approver, make_user):
    client.force_login(approver)
    assert (
        reverse("scheduler_app:approvals")
        in client.get(reverse("scheduler_app:pages")).content.decode()
    )
    listing = client.get(reverse("scheduler_app:approvals"))
    assert b"Publish?" in listing.content and b"yours to decide" in listing.content
    detail = reverse("scheduler_app:approval", args=[approval.pk])
    outsider = make_user(username="outsider")
    client.force_login(outsider)
    assert client.get(detail).status_code == 404
    assert b"approvals/" not in client.get(reverse("scheduler_app:pages")).content
    client.force_login(approver)
    response = client.post(detail, {"decision": "reject", "comment": "No"})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.REJECTED
    response = client.post(detail, {"decision": "approve"})
    assert response.status_code == 400 and b"already decided" in response.content


@pytest.mark.django_db
def test_tokens_name_one_decision_for_one_person(approver, make_task):
    step = make_task(
        "approval",
        module="workflow",
        config={"title": "t", "permission": "SA_TESTMOD_ADMIN"},
        schedule_type="event",
        event="never",
        cron=None,
    )
    request = Approval.objects.create(task=step, title="t", requested_at=START)
    token = approval_links.make_token(request, approver, "reject")
    claim, found = approval_links.read_token(token, user=approver)
    assert (claim.decision, found) == ("reject", request)
    with pytest.raises(ValueError):
        approval_links.make_token(request, approver, "maybe")
    assert services.reject  # the decision itself goes through the services


def _open_step(make_task, **config):
    make_task(
        "approval",
        module="workflow",
        name="Review",
        config={"title": "Publish?", "permission": "SA_TESTMOD_ADMIN", "channels": ["email"]}
        | config,
        schedule_type="event",
        event="never",
        cron=None,
        max_retries=0,
        due=START,
        timezone="Europe/Berlin",
    )
    run_pass(PassOptions())
    [message] = mail.outbox
    return message.body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("expire_after", "says"),
    [
        # Links valid for an hour (APPROVAL_LINK_MAX_AGE above); no deadline: how long they work.
        (None, ["The links work until Mon, 2026-06-01 12:00 CEST; after that, open the request."]),
        # A deadline before the links expire: the deadline is all that counts.
        (
            30,
            [
                "Decide by Mon, 2026-06-01 11:30 CEST: after that the request is rejected "
                "automatically."
            ],
        ),
        # A deadline after the links expire: both, each in the task's zone.
        (
            600,
            [
                "The links work until Mon, 2026-06-01 12:00 CEST; after that, open the request.",
                "It is rejected automatically if nobody decides by Mon, 2026-06-01 21:00 CEST.",
            ],
        ),
    ],
)
def test_the_email_says_until_when_to_decide(make_task, clock, approver, expire_after, says):
    body = _open_step(make_task, **({"expire_after_minutes": expire_after} if expire_after else {}))
    for text in says:
        assert text in body
    assert ("Decide by" in body) == (expire_after == 30)
