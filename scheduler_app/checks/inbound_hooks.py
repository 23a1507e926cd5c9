"""System checks of the inbound webhooks: E060 bad HOOKS_* setting, W060 hook without a secret.

W060 reads the database, so only with ``check --database default``.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from scheduler_app import conf

# Setting: (smallest, largest). A window of more than a day would let a captured
# request be replayed for that long if its nonce were ever lost.
HOOK_NUMBERS: dict[str, tuple[int, int]] = {
    "HOOKS_WINDOW": (1, 86400),
    "HOOKS_MAX_BODY": (2, 10 * 1024 * 1024),
    "HOOKS_SECRET_OVERLAP": (0, 30 * 86400),
    "HOOKS_LOG_MAX": (1, 10_000_000),
}
# Hooks named in W060 at most.
SHOWN = 5


@checks.register("scheduler")
def check_hook_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Each HOOKS_* setting is a whole number in its range (E060)."""
    raw = conf.user_settings()
    errors: list[checks.CheckMessage] = []
    for name, (low, high) in HOOK_NUMBERS.items():
        value = raw.get(name, conf.DEFAULTS[name])
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors.append(
                checks.Error(
                    f"SCHEDULER[{name!r}] is {str(value)[:40]!r}, not a whole number "
                    f"from {low} to {high}.",
                    id="scheduler_app.E060",
                    hint=f"Set SCHEDULER[{name!r}] to a whole number from {low} to {high}, "
                    f"or leave it out for {conf.DEFAULTS[name]}.",
                )
            )
    return errors


@checks.register(checks.Tags.database, "scheduler_hooks")
def check_hook_secrets(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Enabled hooks without a secret refuse every delivery (W060)."""
    if not databases:
        return []
    from django.db import DatabaseError

    from scheduler_app.models import InboundHook

    try:
        bare = list(
            InboundHook.objects.receiving().filter(secret="").values_list("pk", "event")[:100]
        )
    except DatabaseError:
        return []  # not migrated yet
    if not bare:
        return []
    shown = ", ".join(f"#{pk} “{event[:40]}”" for pk, event in bare[:SHOWN])
    return [
        checks.Warning(
            f"{len(bare)} enabled inbound webhook(s) have no secret and refuse every "
            f"delivery: {shown}" + (" …" if len(bare) > SHOWN else "") + ".",
            id="scheduler_app.W060",
            hint="Rotate each hook's secret (admin: Inbound webhooks, action “Rotate secret”, or "
            "manage.py scheduler_hook_secret <event> --rotate) and give it to the sender.",
        )
    ]
