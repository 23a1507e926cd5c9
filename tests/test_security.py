"""Attacks and bad input against the service layer: forged changes, escalation, secrets."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import assign_perm

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, policy, services, task_configs
from scheduler_app.models import AuditAction, ScheduledTask, TaskAuditEvent
from scheduler_app.policy import permissions
from scheduler_app.registry import registry
from scheduler_app.signals import task_scheduled
from tests.test_permissions_roles import (
    ADMIN,
    BASE,
    OTHER_ADMIN,
    fresh,
    register_other_module,
    unregister_other_module,
)

SECURE_BASE = "scheduler_app.SA_SECUREMOD"


class GroupMailForm(forms.Form):
    group = forms.ModelChoiceField(queryset=Group.objects.all())
    api_key = forms.CharField(required=False)
    subject = forms.CharField(required=False)


class MailGroup(SchedulableTask):
    """Needs ``auth.change_group`` on the group it mails (a guardian object permission)."""

    name = "Mail a group"
    config_form = GroupMailForm
    secret_fields = ("api_key",)

    def required_permission(self, config=None):  # noqa: ANN001, ANN201
        return ("auth.change_group", config["group"])

    def execute(self, context):  # noqa: ANN001, ANN201
        return TaskResult.success()


class Audit(SchedulableTask):
    name = "Needs a plain extra permission"

    def required_permission(self, config=None):  # noqa: ANN001, ANN201
        return ["SA_SECUREMOD_AUDIT"]

    def execute(self, context):  # noqa: ANN001, ANN201
        return TaskResult.success()


class SecureProvider(TaskProvider):
    module_id = "securemod"
    name = "Secure module"
    base_permission = "SA_SECUREMOD"
    task_types = {"mail_group": MailGroup, "audit": Audit}


@pytest.fixture
def modules(db):
    register_other_module()
    registry.register(SecureProvider, strict=True)
    permissions.sync_permissions()
    audit_perm = Permission.objects.get(codename="SA_SECUREMOD_ADMIN")
    Permission.objects.get_or_create(
        codename="SA_SECUREMOD_AUDIT",
        content_type=audit_perm.content_type,
        defaults={"name": "Secure module: audit"},
    )
    yield
    registry.unregister("securemod")
    unregister_other_module()


@pytest.fixture
def owner(make_user, modules):
    return make_user(permissions.SCHEDULER, BASE)


@pytest.fixture
def task(owner):
    return services.schedule(
        user=owner,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        config={"note": "mine"},
    )


def schedule_mail(user, group, **config):  # noqa: ANN001, ANN201
    return services.schedule(
        user=user,
        module="securemod",
        task_type="mail_group",
        schedule_type="cron",
        cron="0 6 * * *",
        config={"group": group.pk, **config},
    )


# --- scheduling ---------------------------------------------------------------


def test_a_user_without_sa_scheduler_cannot_schedule(make_user, modules):
    user = make_user(BASE)
    with pytest.raises(PermissionDenied):
        services.schedule(
            user=user, module="testmod", task_type="record", schedule_type="cron", cron="0 * * * *"
        )
    assert not ScheduledTask.objects.exists()


def test_sa_scheduler_without_the_module_permission_cannot_schedule_there(make_user, modules):
    user = make_user(permissions.SCHEDULER, BASE)
    with pytest.raises(PermissionDenied):
        services.schedule(
            user=user, module="othermod", task_type="noop", schedule_type="cron", cron="0 * * * *"
        )


def test_an_inactive_user_can_do_nothing(make_user, task, owner):
    owner.is_active = False
    owner.save()
    assert policy.allowed_actions(fresh(owner), task) == frozenset()
    with pytest.raises(PermissionDenied):
        services.run_now(task, user=owner)


def test_only_module_admins_schedule_for_someone_else(make_user, modules, owner):
    victim = make_user()
    with pytest.raises(PermissionDenied):
        services.schedule(
            user=owner,
            module="testmod",
            task_type="record",
            schedule_type="cron",
            cron="0 * * * *",
            owner=victim,
        )
    boss = make_user(ADMIN)
    task = services.schedule(
        user=boss,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        owner=victim,
    )
    assert task.owner == victim and task.created_by == boss
    assert policy.can_edit(fresh(victim), task)


def test_only_scheduler_admins_create_system_tasks(make_user, modules):
    for user in (make_user(ADMIN), make_user(permissions.SCHEDULER, BASE)):
        with pytest.raises(PermissionDenied):
            services.schedule(
                user=user,
                module="testmod",
                task_type="record",
                schedule_type="cron",
                cron="0 * * * *",
                is_system=True,
            )
    admin = make_user(permissions.SCHEDULER_ADMIN)
    assert services.schedule(
        user=admin,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        is_system=True,
    ).is_system


# --- forged changes -------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("module_id", "othermod"),
        ("task_type", "noop"),
        ("owner", None),
        ("owner_id", None),
        ("is_system", True),
        ("status", "success"),
        ("next_run", None),
        ("created_by", None),
        ("lease_owner", "me"),
        ("run_count", 99),
    ],
)
@pytest.mark.parametrize("who", ["owner", "module admin", "superuser"])
def test_update_refuses_fixed_fields(make_user, task, owner, field, value, who):
    user = {
        "owner": owner,
        "module admin": make_user(ADMIN),
        "superuser": make_user(is_superuser=True),
    }[who]
    before = ScheduledTask.objects.values().get(pk=task.pk)
    with pytest.raises(ValidationError) as caught:
        services.update(task, user=user, **{field: value, "name": "renamed"})
    assert field in caught.value.message_dict
    assert ScheduledTask.objects.values().get(pk=task.pk) == before


def test_a_task_changed_in_memory_is_judged_by_its_stored_row(make_user, task):
    # An admin form binds POST data onto the instance before the service runs.
    other_admin = make_user(OTHER_ADMIN)
    task.module_id = "othermod"
    task.is_system = False
    with pytest.raises(PermissionDenied):
        services.update(task, user=other_admin, name="taken over")
    with pytest.raises(PermissionDenied):
        services.cancel(task, user=other_admin)
    with pytest.raises(PermissionDenied):
        services.delete(task, user=other_admin)
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert (stored.module_id, stored.status) == ("testmod", "pending")
    assert stored.name != "taken over"


def test_an_update_saves_the_stored_row_not_the_forged_instance(task, owner):
    task.module_id = "othermod"
    task.owner_id = None
    services.update(task, user=owner, name="renamed")
    stored = ScheduledTask.objects.get(pk=task.pk)
    assert (stored.module_id, stored.owner_id, stored.name) == ("testmod", owner.pk, "renamed")
    assert (task.module_id, task.owner_id) == ("testmod", owner.pk)


def test_global_model_permissions_open_nothing(make_user, task):
    staff = make_user(
        "scheduler_app.change_scheduledtask",
        "scheduler_app.delete_scheduledtask",
        "scheduler_app.view_scheduledtask",
        "scheduler_app.run_scheduledtask",
        is_staff=True,
    )
    assert policy.allowed_actions(staff, task) == frozenset()
    assert not policy.viewable_queryset(staff).exists()
    with pytest.raises(PermissionDenied):
        services.update(task, user=staff, name="x")


def test_nobody_else_sees_or_touches_a_task_without_a_rule(make_user, task):
    stranger = make_user(permissions.SCHEDULER, is_staff=True)
    with pytest.raises(ScheduledTask.DoesNotExist):
        services.get_task(task.pk, user=stranger)
    for operation in (services.pause, services.cancel, services.run_now, services.delete):
        with pytest.raises(PermissionDenied):
            operation(task, user=stranger)
    with pytest.raises(PermissionDenied):
        services.task_logs(task, user=stranger)
    with pytest.raises(PermissionDenied):
        services.task_history(task, user=stranger)


def test_get_task_treats_a_malformed_id_as_missing(make_user, task):
    with pytest.raises(ScheduledTask.DoesNotExist):
        services.get_task("1 OR 1=1", user=make_user(permissions.SCHEDULER_ADMIN))


def test_an_owner_keeps_their_tasks_after_losing_the_module_permission(task, owner):
    owner.user_permissions.clear()
    owner = fresh(owner)
    assert not policy.can_schedule(owner, "testmod")
    assert {"view", "edit", "run", "pause", "cancel", "delete"} <= policy.allowed_actions(
        owner, task
    )


# --- system tasks -----------------------------------------------------------------


def test_admins_may_still_pause_and_run_a_system_task(make_user, modules):
    task = services.schedule(
        user=None,
        module="testmod",
        task_type="record",
        schedule_type="cron",
        cron="0 * * * *",
        is_system=True,
    )
    admin = make_user(ADMIN)
    assert policy.allowed_actions(admin, task) == (
        frozenset(policy.TASK_ACTIONS) - {"edit", "delete"}
    )
    services.pause(task, user=admin)
    with pytest.raises(PermissionDenied):
        services.delete(task, user=None)


# --- sharing --------------------------------------------------------------------------


def test_sharing_opens_exactly_the_shared_levels(make_user, task, owner):
    friend = make_user()
    services.share(task, user=owner, users=[friend], permissions="view")
    assert policy.allowed_actions(fresh(friend), task) == policy.READ_ACTIONS
    services.share(task, user=owner, users=[friend], permissions=["delete"])
    assert policy.allowed_actions(fresh(friend), task) == policy.READ_ACTIONS | {"delete", "cancel"}
    services.unshare(task, user=owner, users=[friend])
    assert policy.allowed_actions(fresh(friend), task) == frozenset()
    assert not policy.viewable_queryset(fresh(friend)).exists()


def test_shared_users_and_module_users_cannot_reshare(make_user, task, owner):
    friend, reader, third = make_user(), make_user(permissions.SCHEDULER, BASE), make_user()
    services.share(task, user=owner, users=[friend], permissions=["view", "change", "delete"])
    for user in (fresh(friend), reader):
        with pytest.raises(PermissionDenied):
            services.share(task, user=user, users=[third], permissions="change")
    assert not policy.can_view(fresh(third), task)


def test_the_owner_cannot_be_unshared_from_their_own_task(task, owner):
    services.unshare(task, user=owner, users=[owner])
    assert policy.can_edit(fresh(owner), task)


def test_sharing_with_a_group_reaches_its_members(make_user, task, owner):
    team = Group.objects.create(name="ops")
    member = make_user()
    member.groups.add(team)
    services.share(task, user=owner, groups=[team], permissions=["run"])
    assert policy.can_run(fresh(member), task)
    assert not policy.can_edit(fresh(member), task)
    assert services.shared_with(task) == {"users": {}, "groups": {team: ["run"]}}


def test_share_refuses_unknown_levels_and_empty_recipients(task, owner, make_user):
    with pytest.raises(ValidationError):
        services.share(task, user=owner, users=[make_user()], permissions=["own"])
    with pytest.raises(ValidationError):
        services.share(task, user=owner, permissions=["view"])


def test_deleting_a_task_drops_its_object_permissions(make_user, task, owner):
    from guardian.models import UserObjectPermission

    services.share(task, user=owner, users=[make_user()], permissions=["view"])
    services.delete(task, user=owner)
    assert not UserObjectPermission.objects.filter(object_pk=str(task.pk)).exists()


# --- required permissions of a task type -----------------------------------------------


@pytest.fixture
def mailer(make_user, modules):
    return make_user(permissions.SCHEDULER, SECURE_BASE)


def test_a_required_object_permission_is_checked_with_guardian(mailer):
    mine, theirs = Group.objects.create(name="mine"), Group.objects.create(name="theirs")
    assign_perm("auth.change_group", mailer, mine)
    assert schedule_mail(fresh(mailer), mine).config["group"] == mine.pk
    with pytest.raises(PermissionDenied):
        schedule_mail(fresh(mailer), theirs)
    assert policy.can_schedule(fresh(mailer), "securemod", "mail_group", {"group": mine.pk})
    assert not policy.can_schedule(fresh(mailer), "securemod", "mail_group", {"group": theirs.pk})


def test_the_global_permission_meets_an_object_requirement(make_user, modules):
    user = make_user(permissions.SCHEDULER, SECURE_BASE, "auth.change_group")
    assert schedule_mail(user, Group.objects.create(name="any"))


def test_module_admins_still_need_the_required_permission(make_user, modules):
    admin = make_user("scheduler_app.SA_SECUREMOD_ADMIN")
    with pytest.raises(PermissionDenied):
        schedule_mail(admin, Group.objects.create(name="g"))


def test_editing_the_config_needs_the_required_permission_for_the_editor(make_user, mailer):
    mine, theirs = Group.objects.create(name="mine"), Group.objects.create(name="theirs")
    assign_perm("auth.change_group", mailer, mine)
    task = schedule_mail(fresh(mailer), mine)
    editor = make_user()
    assign_perm("auth.change_group", editor, mine)
    services.share(task, user=mailer, users=[editor], permissions="change")
    with pytest.raises(PermissionDenied):
        services.update(task, user=fresh(editor), config={"group": theirs.pk})
    services.update(task, user=fresh(editor), config={"group": mine.pk, "subject": "hi"})
    assert ScheduledTask.objects.get(pk=task.pk).config["group"] == mine.pk


def test_a_plain_required_permission(make_user, modules):
    user = make_user(permissions.SCHEDULER, SECURE_BASE)
    kwargs = {
        "module": "securemod",
        "task_type": "audit",
        "schedule_type": "cron",
        "cron": "0 * * * *",
    }
    with pytest.raises(PermissionDenied):
        services.schedule(user=user, **kwargs)
    user = make_user(permissions.SCHEDULER, SECURE_BASE, "scheduler_app.SA_SECUREMOD_AUDIT")
    assert services.schedule(user=user, **kwargs)


# --- secrets -----------------------------------------------------------------------------


@pytest.fixture
def secret_task(make_user, modules):
    user = make_user(permissions.SCHEDULER, SECURE_BASE, "auth.change_group")
    group = Group.objects.create(name="g")
    return user, group, schedule_mail(user, group, api_key="s3cr3t", subject="hello")


def test_secrets_are_stored_but_shown_masked(secret_task):
    _, _, task = secret_task
    assert ScheduledTask.objects.get(pk=task.pk).config["api_key"] == "s3cr3t"
    assert task.masked_config["api_key"] == task_configs.SECRET_MASK
    assert services.visible_config(task) == {**task.config, "api_key": task_configs.SECRET_MASK}


def test_signals_carry_the_masked_config(make_user, modules, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, task, config, **kwargs):  # noqa: ANN001, ANN003
        seen.append(config)

    user = make_user(permissions.SCHEDULER, SECURE_BASE, "auth.change_group")
    task_scheduled.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            schedule_mail(user, Group.objects.create(name="g"), api_key="s3cr3t")
    finally:
        task_scheduled.disconnect(receiver)
    assert seen and seen[0]["api_key"] == task_configs.SECRET_MASK


@pytest.mark.parametrize("sent", [task_configs.SECRET_MASK, "", None])
def test_an_edit_that_sends_the_secret_back_masked_or_empty_keeps_it(secret_task, sent):
    user, group, task = secret_task
    services.update(task, user=user, config={"group": group.pk, "api_key": sent, "subject": "new"})
    stored = ScheduledTask.objects.get(pk=task.pk).config
    assert (stored["api_key"], stored["subject"]) == ("s3cr3t", "new")


def test_an_edit_can_replace_a_secret_and_history_does_not_show_it(secret_task):
    user, group, task = secret_task
    services.update(task, user=user, config={"group": group.pk, "api_key": "n3w"})
    assert ScheduledTask.objects.get(pk=task.pk).config["api_key"] == "n3w"
    event = TaskAuditEvent.objects.get(task_ref=task.pk, action=AuditAction.EDITED)
    assert "config.api_key" in event.changes
    dumped = str(list(TaskAuditEvent.objects.values_list("changes", flat=True)))
    assert "s3cr3t" not in dumped and "n3w" not in dumped


def test_the_mask_is_not_accepted_as_a_new_secret(make_user, modules):
    user = make_user(permissions.SCHEDULER, SECURE_BASE, "auth.change_group")
    with pytest.raises(ValidationError) as caught:
        schedule_mail(user, Group.objects.create(name="g"), api_key=task_configs.SECRET_MASK)
    assert "api_key" in caught.value.message_dict


def test_a_task_of_an_unknown_type_shows_no_config_value(secret_task):
    _, _, task = secret_task
    ScheduledTask.objects.filter(pk=task.pk).update(task_type="gone")
    task.refresh_from_db()
    assert set(task.masked_config.values()) == {task_configs.SECRET_MASK}


def test_setting_an_empty_secret_is_audited_masked(make_user, modules):
    user = make_user(permissions.SCHEDULER, SECURE_BASE, "auth.change_group")
    group = Group.objects.create(name="g")
    task = schedule_mail(user, group)
    services.update(task, user=user, config={"group": group.pk, "api_key": "f1rst"})
    event = TaskAuditEvent.objects.get(task_ref=task.pk, action=AuditAction.EDITED)
    assert event.changes["config.api_key"] == ["", task_configs.SECRET_MASK]


def test_every_lifecycle_signal_carries_the_masked_config(secret_task):
    from scheduler_app.signals import send_lifecycle, task_executed

    _, _, task = secret_task
    seen = []

    def receiver(sender, task, config, **kwargs):  # noqa: ANN001, ANN003
        seen.append(config)

    task_executed.connect(receiver)
    try:
        send_lifecycle(task_executed, "task.executed", task=task, log=None)
    finally:
        task_executed.disconnect(receiver)
    assert seen == [{**task.config, "api_key": task_configs.SECRET_MASK}]
