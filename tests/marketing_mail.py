"""A mail backend for the marketing tests: locmem, but refuses addresses with "bounce"."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.locmem import EmailBackend


class BouncingBackend(EmailBackend):
    def send_messages(self, messages):  # noqa: ANN001, ANN201
        for message in messages:
            refused = [a for a in message.recipients() if "bounce" in a]
            if refused:
                raise smtplib.SMTPRecipientsRefused(dict.fromkeys(refused, (550, b"no such user")))
        return super().send_messages(messages)
