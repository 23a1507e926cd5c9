"""The permission catalogue: SA_* permissions as real Django permissions.

SA_SCHEDULER, SA_SCHEDULER_VIEW and SA_SCHEDULER_ADMIN come with the
ScheduledTask model. Each registered provider's base and admin permissions
are created after ``migrate`` (post_migrate), unless the provider names an
existing permission as ``app_label.codename``.
"""

from __future__ import annotations

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


def provider_permissions() -> list[tuple[str, str]]:
    """(codename, readable name) of every provider permission this app must create."""
    from scheduler_app.registry import registry

    wanted: list[tuple[str, str]] = []
    for provider in registry.providers():
        label = provider.verbose_name()
        if provider.base_permission and "." not in provider.base_permission:
            wanted.append((provider.base_permission, f"{label}: may schedule and see {label} tasks"))
        admin = provider.admin_permission_name()
        if admin and "." not in admin:
            wanted.append((admin, f"{label}: administers all {label} tasks"))
    return wanted


def create_provider_permissions(using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:  # noqa: ANN001
    """Create the provider permissions that do not exist yet (idempotent)."""
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
    wanted = provider_permissions()
    existing = set(
        Permission.objects.db_manager(using)
        .filter(content_type=content_type, codename__in=[c for c, _ in wanted])
        .values_list("codename", flat=True)
    )
    Permission.objects.db_manager(using).bulk_create(
        [Permission(codename=c, name=n[:255], content_type=content_type)
         for c, n in wanted if c not in existing]
    )


def _on_post_migrate(sender, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:  # noqa: ANN001
    if getattr(sender, "name", None) == APP_LABEL:
        create_provider_permissions(using=using, apps=apps)


post_migrate.connect(_on_post_migrate, dispatch_uid="scheduler_app.create_provider_permissions")
