"""System checks of approval steps: W050 a step nobody may decide, W051 e-mailed links
without the site's address, E050 bad link settings.

W050 reads the database (the steps and who holds their permissions), so it
runs only with ``check --database default``, as the other database checks do.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

#: Approval steps W050 looks at, at most: a bound on a check run by hand.
STEP_LIMIT = 2000
APPROVAL_KEY = ("workflow", "approval")


@checks.register("scheduler")
def check_link_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """E050: the approval e-mail link settings."""
    from scheduler_app import conf

    s = conf.get()
    found: list[checks.CheckMessage] = []
    age = s.APPROVAL_LINK_MAX_AGE
    if isinstance(age, bool) or not isinstance(age, int) or age <= 0:
        found.append(
            checks.Error(
                f"SCHEDULER['APPROVAL_LINK_MAX_AGE'] is {age!r}.",
                id="scheduler_app.E050",
                hint="Give the seconds an approval e-mail's link stays valid, e.g. 604800.",
            )
        )
    base = s.APPROVAL_LINK_BASE_URL
    if not isinstance(base, str) or (base and not base.startswith(("http://", "https://"))):
        found.append(
            checks.Error(
                f"SCHEDULER['APPROVAL_LINK_BASE_URL'] is {base!r}.",
                id="scheduler_app.E050",
                hint='Use the site\'s address, e.g. "https://example.com", or "".',
            )
        )
    return found


@checks.register(checks.Tags.database, "scheduler_approvals")
def check_approvers(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """W050: approval steps whose named approvers are nobody (superusers aside)."""
    if not databases:
        return []
    from django.db import DatabaseError

    from scheduler_app import conf
    from scheduler_app.models import ScheduledTask, TaskStatus
    from scheduler_app.notifications import EMAIL
    from scheduler_app.services.approval_requests import channels_of

    try:
        steps = list(
            ScheduledTask.objects.filter(module_id=APPROVAL_KEY[0], task_type=APPROVAL_KEY[1])
            .exclude(status=TaskStatus.CANCELLED)
            .order_by("pk")
            .only("pk", "name", "config")[:STEP_LIMIT]
        )
    except DatabaseError:
        return []  # not migrated yet: nothing to say
    found: list[checks.CheckMessage] = []
    emailing = [step for step in steps if EMAIL in channels_of(step.config)]
    if emailing and not conf.get().APPROVAL_LINK_BASE_URL:
        found.append(
            checks.Warning(
                f"{len(emailing)} approval step(s) e-mail their approvers (first: "
                f"“{emailing[0].name[:80]}”, task {emailing[0].pk}), but "
                "SCHEDULER['APPROVAL_LINK_BASE_URL'] is empty: the e-mails' links carry no "
                "site address, and most mail readers cannot open them.",
                id="scheduler_app.W051",
                hint='Set SCHEDULER["APPROVAL_LINK_BASE_URL"] to the site\'s address, e.g. '
                '"https://example.com".',
            )
        )
    for step in steps:
        if not _anyone_decides(step.config if isinstance(step.config, dict) else {}):
            found.append(
                checks.Warning(
                    f"Nobody may decide the approval step “{step.name[:80]}” (task {step.pk}): "
                    "no active user holds its permission or belongs to its group.",
                    id="scheduler_app.W050",
                    hint="Grant the permission the step names (or add people to its group), "
                    "or change the step's approvers; until then its requests expire unanswered.",
                    obj=f"ScheduledTask {step.pk}",
                )
            )
    return found


def _anyone_decides(config: dict[str, Any]) -> bool:
    from django.contrib.auth import get_user_model

    from scheduler_app.policy.permissions import full_name

    users = get_user_model().objects.filter(is_active=True)
    for perm_key, group_key in (
        ("permission", "group"),
        ("escalation_permission", "escalation_group"),
    ):
        perm = str(config.get(perm_key) or "").strip()
        if perm and "." in full_name(perm):
            try:
                holders = users.model.objects.with_perm(
                    full_name(perm),
                    include_superusers=False,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
            except ValueError:
                holders = users.none()
            if holders.exists():
                return True
        group = str(config.get(group_key) or "").strip()
        if group and users.filter(groups__name=group).exists():
            return True
    return False
