"""The policy's own behaviour: query counts, bulk answers, status-aware actions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from scheduler_app import policy, services
from scheduler_app.models import ScheduledTask, TaskStatus
from scheduler_app.policy import permissions
from tests.test_permissions_roles import ADMIN, BASE, fresh


@pytest.fixture
def owner(make_user):
    return make_user(permissions.SCHEDULER, BASE)


def schedule_many(owner, count: int) -> list[ScheduledTask]:  # noqa: ANN001
    return [
        services.schedule(
            user=owner,
            module="testmod",
            task_type="noop",
            schedule_type="cron",
            cron="0 * * * *",
            name=f"task {i}",
        )
        for i in range(count)
    ]


def sharer_with_access_to(owner, tasks, make_user):  # noqa: ANN001, ANN201
    """A user who sees ``tasks`` through user shares and group shares, half each."""
    team = Group.objects.create(name=f"team-{len(tasks)}")
    user = make_user()
    user.groups.add(team)
    for i, task in enumerate(tasks):
        if i % 2:
            services.share(task, user=owner, users=[user], permissions=["view", "run"])
        else:
            services.share(task, user=owner, groups=[team], permissions=["change"])
    return fresh(user)


@pytest.mark.parametrize("count", [2, 12])
def test_viewable_queryset_costs_the_same_whatever_the_number_of_tasks(
    make_user, owner, django_assert_num_queries, count
):
    tasks = schedule_many(owner, count)
    schedule_many(make_user(permissions.SCHEDULER, BASE), 3)  # others', not shared
    user = sharer_with_access_to(owner, tasks, make_user)
    policy.viewable_queryset(AnonymousUser())  # warm the content type cache
    # Two to load the user's permissions (user, groups), one for the rows.
    with django_assert_num_queries(3):
        rows = list(policy.viewable_queryset(user))
    assert {t.pk for t in rows} == {t.pk for t in tasks}


@pytest.mark.parametrize("count", [2, 12])
def test_allowed_actions_for_a_page_is_one_query(
    make_user, owner, django_assert_num_queries, count
):
    tasks = schedule_many(owner, count)
    user = sharer_with_access_to(owner, tasks, make_user)
    user.get_all_permissions()
    with django_assert_num_queries(1):
        found = policy.allowed_actions_for(user, tasks)
    with django_assert_num_queries(0):
        for task in tasks:
            assert policy.allowed_actions(user, task) == found[task.pk]
    assert found[tasks[0].pk] >= {"edit", "cancel"}  # group share at "change"
    assert "edit" not in found[tasks[1].pk]  # user share at "view" + "run"


def test_admins_and_owners_need_no_object_permission_query(
    make_user, owner, django_assert_num_queries
):
    tasks = schedule_many(owner, 3)
    for user in (make_user(ADMIN), make_user(permissions.SCHEDULER_ADMIN), fresh(owner)):
        user.get_all_permissions()
        with django_assert_num_queries(0):
            found = policy.allowed_actions_for(user, tasks)
        assert all("edit" in actions for actions in found.values())


def test_anonymous_users_cost_no_query(make_user, owner, django_assert_num_queries):
    tasks = schedule_many(owner, 2)
    with django_assert_num_queries(0):
        assert policy.allowed_actions_for(AnonymousUser(), tasks) == {
            t.pk: frozenset() for t in tasks
        }
        assert not policy.can_schedule(AnonymousUser(), "testmod")
        policy.viewable_queryset(AnonymousUser())


def test_viewable_logs_follow_viewable_tasks(make_user, owner):
    from django.utils import timezone

    from scheduler_app.models import TaskExecutionLog

    mine, theirs = (
        schedule_many(owner, 1)[0],
        schedule_many(make_user(permissions.SCHEDULER, BASE), 1)[0],
    )
    for task in (mine, theirs):
        TaskExecutionLog.objects.create(
            task=task, run_id=str(task.pk), scheduled_for=timezone.now()
        )
    reader = make_user()
    services.share(mine, user=owner, users=[reader], permissions="view")
    assert [log.task_id for log in policy.viewable_logs(fresh(reader))] == [mine.pk]


@pytest.mark.parametrize(
    "status, expected",
    [
        (TaskStatus.PENDING, {"pause", "run", "cancel"}),
        (TaskStatus.PAUSED, {"resume", "run", "cancel"}),
        (TaskStatus.RUNNING, {"cancel"}),
        (TaskStatus.FAILED, {"run", "cancel"}),
        (TaskStatus.CANCELLED, set()),
    ],
)
def test_available_actions_follow_the_status(owner, status, expected):
    task = schedule_many(owner, 1)[0]
    task.status = status
    lifecycle = {"pause", "resume", "run", "cancel"}
    assert policy.available_actions(fresh(owner), task) & lifecycle == expected
    assert {"view", "edit", "delete"} <= policy.available_actions(fresh(owner), task)


def test_can_schedule_checks_the_task_type_and_config(make_user, owner):
    assert policy.can_schedule(owner, "testmod", "record", {"note": "ok"})
    assert not policy.can_schedule(owner, "testmod", "no_such_type")
    assert not policy.can_schedule(owner, "no_such_module")
    assert not policy.can_schedule(owner, "testmod", "record", {"sleep": -1})  # invalid config
    assert policy.can_schedule(make_user(ADMIN), "testmod", "record")
    assert policy.schedulable_modules(owner) == ["testmod"]
    assert policy.administered_modules(owner) == []
    assert policy.administered_modules(make_user(ADMIN)) == ["testmod"]


def test_actions_are_stable_public_names():
    assert policy.TASK_ACTIONS == (
        "view",
        "view_logs",
        "view_history",
        "edit",
        "pause",
        "resume",
        "run",
        "cancel",
        "delete",
        "share",
    )
    assert policy.ACTIONS[0] == "schedule"
    assert set(policy.SHARE_LEVELS) == {"view", "change", "run", "delete"}
