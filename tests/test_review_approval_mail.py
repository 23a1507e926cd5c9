"""Review probe: an approval step's title becomes an e-mail subject; a title that no mail
header can carry is refused when the step is scheduled, not lost when the mail is sent."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from scheduler_app import services


@pytest.mark.parametrize("title", ["Publish\nnow?", "Publish\rnow?", "Publish\u2028now"])
def test_a_title_a_mail_subject_cannot_carry_is_a_field_error(db, title):
    with pytest.raises(ValidationError) as refused:
        services.schedule(
            user=None,
            module="workflow",
            task_type="approval",
            schedule_type="event",
            event="never",
            config={"title": title, "permission": "SA_TESTMOD_ADMIN"},
        )
    assert "title" in str(refused.value.message_dict)


def test_an_ordinary_title_is_kept(db):
    task = services.schedule(
        user=None,
        module="workflow",
        task_type="approval",
        schedule_type="event",
        event="never",
        config={"title": "Publish “Spring sale” – ok?", "permission": "SA_TESTMOD_ADMIN"},
    )
    assert task.config["title"] == "Publish “Spring sale” – ok?"


@pytest.mark.parametrize("subject", ["Publish\nnow?", "Publish\r\nnow?", "Publish\u2028now?"])
def test_an_e_mail_whose_subject_has_a_line_break_is_still_sent(db, make_user, subject):
    """Any subject (a task's name, a title typed before titles were checked) reaches the inbox."""
    from django.core import mail

    from scheduler_app.notifications.channels import EmailChannel
    from scheduler_app.notifications.messages import Message, Origin

    person = make_user(username="approver", email="a@example.com")
    sent = EmailChannel().send([person], Message(subject=subject, text="body"), Origin())
    assert sent == 1 and len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Publish now?"
