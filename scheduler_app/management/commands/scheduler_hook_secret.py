"""Make an inbound webhook or rotate its secret; print the new secret this once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from scheduler_app.management.acting import acting_user, add_as_user_argument, one_line
from scheduler_app.models import InboundHook
from scheduler_app.services import inbound_hooks


class Command(BaseCommand):
    help = (
        "Make the inbound webhook of EVENT (--create) or give it a new secret (--rotate); "
        "print the secret once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("event", help="The hook's event name, as in /scheduler/hooks/<event>/.")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--create", action="store_true", help="Make a new hook.")
        action.add_argument("--rotate", action="store_true", help="Give the hook a new secret.")
        parser.add_argument(
            "--overlap",
            type=int,
            default=None,
            help="Seconds the old secret still signs (default SCHEDULER['HOOKS_SECRET_OVERLAP']).",
        )
        parser.add_argument("--description", default="", help="With --create: what it is for.")
        add_as_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user = acting_user(options["as_user"])
        event = options["event"]
        try:
            if options["create"]:
                _hook, secret = inbound_hooks.create_hook(
                    user=user, event=event, description=options["description"][:200]
                )
            else:
                hook = InboundHook.objects.filter(event=event).first()
                if hook is None:
                    raise CommandError(f"No inbound webhook for the event {event[:80]!r}.")
                secret = inbound_hooks.rotate_secret(hook, user=user, overlap=options["overlap"])
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(one_line(exc)) from None
        self.stdout.write(secret)
        self.stderr.write(
            "The secret above is shown this once; give it to the sender. "
            f"Sign with {inbound_hooks.SIGNATURE_HEADER}: t=<unix>,v1=<hex hmac_sha256(secret, "
            '"t.body")>.'
        )
