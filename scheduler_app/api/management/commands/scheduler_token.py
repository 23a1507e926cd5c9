"""Make, list and revoke HTTP API tokens from the command line."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from scheduler_app.api import tokens
from scheduler_app.api.models import ApiToken, TokenScope
from scheduler_app.management.acting import one_line
from scheduler_app.quoting import quote_input


class Command(BaseCommand):
    help = (
        "Manage HTTP API tokens. 'create USERNAME [--scope read|write] [--name TEXT]' prints "
        "the secret once; 'list [USERNAME]' shows tokens; 'revoke PREFIX_OR_ID' revokes one."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Make a token; the secret is printed once.")
        create.add_argument("username")
        create.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        create.add_argument("--name", default="")
        listing = sub.add_parser("list", help="List tokens (of one user).")
        listing.add_argument("username", nargs="?")
        listing.add_argument("--all", action="store_true", help="Include revoked tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id or first characters.")
        revoke.add_argument("token")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        getattr(self, f"_{options['action']}")(options)

    def _user(self, username: str):  # noqa: ANN202
        model = get_user_model()
        try:
            return model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            raise CommandError(f"No user named {quote_input(username)!r}.") from None

    def _create(self, options: dict) -> None:
        user = self._user(options["username"])
        try:
            token, secret = tokens.issue(user, scope=options["scope"], name=options["name"])
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(one_line(exc)) from None
        self.stderr.write(f"Token {token.pk} ({token.scope}) for {user.get_username()}:")
        self.stdout.write(secret)

    def _list(self, options: dict) -> None:
        rows = ApiToken.objects.select_related("user").order_by("pk")
        if options["username"]:
            rows = rows.filter(user=self._user(options["username"]))
        if not options["all"]:
            rows = rows.filter(revoked_at__isnull=True)
        for token in rows[:1000]:
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            state = "revoked" if token.revoked_at else "active"
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.user.get_username()}\t{token.scope}\t"
                f"{state}\tlast used {used}\t{token.name}"
            )

    def _revoke(self, options: dict) -> None:
        key = options["token"].strip()
        if not key or len(key) > 200:
            raise CommandError("Give a token id or its first characters.")
        numeric = key.isascii() and key.isdigit()
        found = ApiToken.objects.filter(prefix=key[:8]) if not numeric else None
        if found is None or not found.exists():
            found = ApiToken.objects.filter(pk=int(key)) if numeric else found
        if found is None or not found.exists():
            raise CommandError(f"No token {quote_input(key)!r}.")
        if found.count() > 1:
            raise CommandError(f"{quote_input(key)!r} matches several tokens; give the token id.")
        count = tokens.revoke(found, user=None)
        self.stdout.write("Revoked." if count else "Already revoked.")
