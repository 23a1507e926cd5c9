"""The permission catalogue: SA_* permissions as real Django permissions.

SA_SCHEDULER, SA_SCHEDULER_VIEW and SA_SCHEDULER_ADMIN come with the
ScheduledTask model (``Meta.permissions``). Each registered provider adds:

* its base permission (``base_permission = "SA_REPORTS"``): may schedule in
  the module (with SA_SCHEDULER) and see every task of the module;
* its module admin permission (``admin_permission``, by default
  ``SA_REPORTS_ADMIN``): manages every task of the module.

Both are created after ``migrate`` (post_migrate) on the ScheduledTask content
type, with readable names, unless the provider names an existing permission
as ``app_label.codename``; such a permission is used as it is and never
created. A provider whose base permission is dotted and that sets no
``admin_permission`` gets ``SA_<MODULE_ID>_ADMIN``.

Call :func:`sync_permissions` after registering a provider at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, router
from django.db.models.signals import post_migrate

APP_LABEL = "scheduler_app"
SCHEDULER = f"{APP_LABEL}.SA_SCHEDULER"
SCHEDULER_VIEW = f"{APP_LABEL}.SA_SCHEDULER_VIEW"
SCHEDULER_ADMIN = f"{APP_LABEL}.SA_SCHEDULER_ADMIN"


def full_name(permission: str) -> str:
    """``SA_REPORTS`` -> ``scheduler_app.SA_REPORTS``; ``app.codename`` unchanged."""
    return permission if "." in permission else f"{APP_LABEL}.{permission}"


@dataclass(frozen=True)
class ModulePermissions:
    """The two permissions of one provider, as full names (``app_label.codename``)."""

    module_id: str
    base: str | None
    admin: str


def for_provider(provider: Any) -> ModulePermissions:
    """The base and module admin permission of ``provider`` (a TaskProvider class)."""
    base = full_name(provider.base_permission) if provider.base_permission else None
    admin = full_name(provider.admin_permission_name())
    return ModulePermissions(provider.module_id, base, admin)


def provider_permissions() -> list[tuple[str, str]]:
    """(codename, readable name) of every provider permission this app must create."""
    from scheduler_app.registry import registry

    wanted: dict[str, str] = {}
    for provider in registry.providers():
        label = str(provider.verbose_name())
        perms = for_provider(provider)
        if perms.base and perms.base.startswith(f"{APP_LABEL}."):
            wanted.setdefault(
                perms.base.split(".", 1)[1], f"{label}: may schedule and see {label} tasks"
            )
        if perms.admin.startswith(f"{APP_LABEL}."):
            wanted.setdefault(
                perms.admin.split(".", 1)[1], f"{label}: administers all {label} tasks"
            )
    return sorted(wanted.items())


def create_provider_permissions(
    using: str = DEFAULT_DB_ALIAS, apps: Any = global_apps, **kwargs: Any
) -> None:
    """Create the provider permissions that do not exist yet and refresh their names."""
    try:
        Permission = apps.get_model("auth", "Permission")
        ContentType = apps.get_model("contenttypes", "ContentType")
        apps.get_model(APP_LABEL, "ScheduledTask")
    except LookupError:
        return
    if not router.allow_migrate_model(using, Permission):
        return
    content_type, _ = ContentType.objects.db_manager(using).get_or_create(
        app_label=APP_LABEL, model="scheduledtask"
    )
    wanted = {codename: name[:255] for codename, name in provider_permissions()}
    existing = {
        p.codename: p
        for p in Permission.objects.db_manager(using).filter(
            content_type=content_type, codename__in=list(wanted)
        )
    }
    Permission.objects.db_manager(using).bulk_create(
        [
            Permission(codename=c, name=n, content_type=content_type)
            for c, n in wanted.items()
            if c not in existing
        ]
    )
    renamed = [p for c, p in existing.items() if p.name != wanted[c]]
    for perm in renamed:
        perm.name = wanted[perm.codename]
    if renamed:
        Permission.objects.db_manager(using).bulk_update(renamed, ["name"])


def sync_permissions(using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the permissions of the providers registered now (idempotent)."""
    create_provider_permissions(using=using)


def _on_post_migrate(
    sender: Any, using: str = DEFAULT_DB_ALIAS, apps: Any = global_apps, **kwargs: Any
) -> None:
    if getattr(sender, "name", None) == APP_LABEL:
        create_provider_permissions(using=using, apps=apps)


post_migrate.connect(_on_post_migrate, dispatch_uid="scheduler_app.create_provider_permissions")
