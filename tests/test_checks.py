"""System checks: one test per id, on throwaway providers and settings."""

from __future__ import annotations

import pytest
from django import forms
from django.core import checks as django_checks

from scheduler_app import SchedulableTask, TaskProvider, TaskResult
from scheduler_app.checks import check_providers, check_settings, provider_messages
from scheduler_app.registry import ProviderRegistry, registry

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://x/0"}}


class GoodForm(forms.Form):
    note = forms.CharField(required=False)


class Good(SchedulableTask):
    name = "Good"
    config_form = GoodForm

    def execute(self, context):
        return TaskResult.success()


class NoExecute(SchedulableTask):  # execute() left abstract
    name = "No execute"


class NotATask:
    def execute(self, context):
        return TaskResult.success()


def provider(module_id="things", base="SA_THINGS", task_types=None, **attrs) -> type[TaskProvider]:
    attrs.update(
        module_id=module_id,
        base_permission=base,
        task_types={"good": Good} if task_types is None else task_types,
    )
    return type("ThingsProvider", (TaskProvider,), attrs)


def ids_for(*providers: type[TaskProvider]) -> list[str]:
    reg = ProviderRegistry()
    for p in providers:
        reg.register(p)
    return [m.id for m in provider_messages(reg)]


def messages_for(*providers: type[TaskProvider]) -> list[django_checks.CheckMessage]:
    reg = ProviderRegistry()
    for p in providers:
        reg.register(p)
    return provider_messages(reg)


# -- providers --------------------------------------------------------------------


def test_a_good_provider_passes():
    assert ids_for(provider()) == []


def test_the_installed_providers_pass():
    assert check_providers() == []


def test_e001_duplicate_module_id():
    first, second = provider(), provider(base="SA_OTHER")
    [message] = messages_for(first, second)
    assert message.id == "scheduler_app.E001"
    assert message.obj is second
    assert "'things'" in message.msg and message.hint


@pytest.mark.parametrize(
    "module_id", ["", "Reports", "1reports", "re-ports", "re ports", "r" * 65, None, 7]
)
def test_e002_bad_module_id(module_id):
    [message] = messages_for(
        provider(module_id=module_id, base="SA_THINGS", admin_permission="SA_THINGS_ADMIN")
    )
    assert message.id == "scheduler_app.E002"
    assert "lowercase" in message.hint


@pytest.mark.parametrize(
    "base",
    [
        "sa_things",
        "SA_",
        "THINGS",
        "SA_Things",
        "SA THINGS",
        "reports",
        "app.",
        ".codename",
        "SA_" + "X" * 92,
    ],
)
def test_e003_bad_permission_name(base):
    assert "scheduler_app.E003" in ids_for(provider(base=base))


def test_e003_explicit_admin_permission_is_checked_too():
    [message] = messages_for(provider(admin_permission="things admin"))
    assert message.id == "scheduler_app.E003"
    assert "'things admin'" in message.msg


@pytest.mark.parametrize(
    "base", ["SA_THINGS", "SA_" + "X" * 91, "auth.view_user", "myapp.can_do_things"]
)
def test_good_permission_names_pass(base):
    assert ids_for(provider(base=base)) == []


def test_e004_missing_base_permission():
    assert ids_for(provider(base="")) == ["scheduler_app.E004"]


@pytest.mark.parametrize("key", ["Good", "good-one", "", "1good", 5])
def test_e005_bad_task_type_key(key):
    assert ids_for(provider(task_types={key: Good})) == ["scheduler_app.E005"]


@pytest.mark.parametrize("task_cls", [NotATask, Good(), "tests.Good", None, GoodForm])
def test_e006_task_type_that_is_not_a_schedulable_task(task_cls):
    [message] = messages_for(provider(task_types={"thing": task_cls}))
    assert message.id == "scheduler_app.E006"
    assert "things.thing" in message.msg


def test_e007_missing_execute():
    [message] = messages_for(provider(task_types={"lazy": NoExecute}))
    assert message.id == "scheduler_app.E007"
    assert message.obj is NoExecute
    assert "execute" in message.msg


@pytest.mark.parametrize("form", [GoodForm(), dict, None, "GoodForm", forms.CharField])
def test_e008_config_form_that_is_not_a_form_class(form):
    task_cls = type("Odd", (Good,), {"config_form": form})
    assert ids_for(provider(task_types={"odd": task_cls})) == ["scheduler_app.E008"]


def test_model_forms_are_accepted_as_config_forms():
    from django.contrib.auth.models import Group

    class GroupForm(forms.ModelForm):
        class Meta:
            model = Group
            fields = ["name"]

    task_cls = type("WithModelForm", (Good,), {"config_form": GroupForm})
    assert ids_for(provider(task_types={"odd": task_cls})) == []


@pytest.mark.parametrize("task_types", [[Good], "good", ("good", Good)])
def test_e009_task_types_not_a_dict(task_types):
    assert ids_for(provider(task_types=task_types)) == ["scheduler_app.E009"]


def test_w002_provider_without_task_types():
    [message] = messages_for(provider(task_types={}))
    assert message.id == "scheduler_app.W002"
    assert message.level == django_checks.WARNING


def test_one_broken_provider_does_not_hide_the_others():
    other = provider(module_id="others", base="SA_OTHERS", task_types={"bad": NoExecute})
    assert sorted(ids_for(provider(base=""), other)) == ["scheduler_app.E004", "scheduler_app.E007"]


@pytest.fixture
def restore_global_registry():
    saved, conflicts = dict(registry._registry), list(registry.conflicts)
    yield registry
    registry._registry.clear()
    registry._registry.update(saved)
    registry.conflicts[:] = conflicts


def test_manage_py_check_reports_a_broken_provider(restore_global_registry):
    registry.register(provider(module_id="broken_thing", base="", task_types={"x": NotATask}))
    messages = django_checks.run_checks(tags=["scheduler"])
    assert {m.id for m in messages} >= {"scheduler_app.E004", "scheduler_app.E006"}


# -- settings ----------------------------------------------------------------------


@pytest.fixture
def scheduler_settings(settings):
    """Set SCHEDULER (and CACHES) for one test; conf resets on setting_changed."""

    def apply(caches=None, **values):
        settings.CACHES = caches or REDIS
        settings.SCHEDULER = values
        return check_settings()

    return apply


def ids(messages):
    return [m.id for m in messages]


def test_default_settings_with_redis_pass(scheduler_settings):
    assert scheduler_settings() == []


def test_test_settings_pass():
    assert check_settings() == []


def test_e010_scheduler_not_a_dict(settings):
    settings.SCHEDULER = ["WORKERS", 2]
    [message] = check_settings()
    assert message.id == "scheduler_app.E010"
    assert "list" in message.msg


def test_scheduler_none_means_defaults(settings):
    settings.CACHES = REDIS
    settings.SCHEDULER = None
    assert check_settings() == []


def test_e011_unknown_key_and_other_errors_are_all_reported(scheduler_settings):
    messages = scheduler_settings(WORKES=4, EXECUTION="threads")
    assert ids(messages) == ["scheduler_app.E011", "scheduler_app.E012"]
    assert "'WORKES'" in messages[0].msg and "WORKERS" in messages[0].hint


def test_e012_unknown_execution_mode(scheduler_settings):
    [message] = scheduler_settings(EXECUTION="celery")
    assert message.id == "scheduler_app.E012"
    assert "'process', 'inline' or 'tasks'" in message.hint


@pytest.mark.parametrize("execution", ["process", "inline", "tasks"])
def test_known_execution_modes_pass(scheduler_settings, execution):
    assert scheduler_settings(EXECUTION=execution) == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("WORKERS", -1),
        ("WORKERS", "2"),
        ("WORKERS", 1.5),
        ("WORKERS", True),
        ("LEASE_SECONDS", 5),
        ("BATCH_SIZE", 0),
        ("DEFAULT_TIMEOUT", 0),
        ("DEFAULT_MAX_RETRIES", -1),
        ("RETRY_BACKOFF_BASE", -1),
        ("RETRY_BACKOFF_MAX", None),
        ("RETRY_JITTER", 2),
        ("LOG_RETENTION_DAYS", -3),
        ("OUTPUT_LIMIT", -1),
        ("RESULT_LIMIT", 10),
        ("MISFIRE_GRACE", -1),
        ("MISFIRE_RUN_ALL_CAP", 0),
        ("LOOP_SLEEP", 0),
    ],
)
def test_e013_bad_numbers(scheduler_settings, key, value):
    [message] = scheduler_settings(**{key: value})
    assert message.id == "scheduler_app.E013"
    assert key in message.msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MISFIRE_GRACE", None),
        ("MISFIRE_GRACE", 0),
        ("WORKERS", 0),
        ("RETRY_JITTER", 0.5),
        ("RETRY_BACKOFF_BASE", 2.5),
        ("LOOP_SLEEP", 0.5),
    ],
)
def test_good_numbers_pass(scheduler_settings, key, value):
    assert scheduler_settings(**{key: value}) == []


def test_e014_lock_cache_not_in_caches(scheduler_settings):
    [message] = scheduler_settings(LOCK_CACHE="locks")
    assert message.id == "scheduler_app.E014"
    assert "'locks'" in message.msg


def test_e015_tasks_backend_not_in_tasks(scheduler_settings):
    [message] = scheduler_settings(EXECUTION="tasks", TASKS_BACKEND="nowhere")
    assert message.id == "scheduler_app.E015"
    assert scheduler_settings(EXECUTION="process", TASKS_BACKEND="nowhere") == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LOCK_CACHE", 3),
        ("LOCK_CACHE", ""),
        ("LOCK_PREFIX", None),
        ("TASKS_QUEUE", ""),
        ("EXPECT_SINGLE_SCHEDULER", "yes"),
    ],
)
def test_e016_bad_text_or_flag(scheduler_settings, key, value):
    assert ids(scheduler_settings(**{key: value})) == ["scheduler_app.E016"]


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    ],
)
def test_w001_process_local_lock_cache(scheduler_settings, backend):
    [message] = scheduler_settings(caches={"default": {"BACKEND": backend}})
    assert message.id == "scheduler_app.W001"
    assert message.level == django_checks.WARNING
    assert "django-redis" in message.hint and "EXPECT_SINGLE_SCHEDULER" in message.hint


def test_w001_is_silenced_when_one_scheduler_is_expected(scheduler_settings):
    assert scheduler_settings(caches=LOCMEM, EXPECT_SINGLE_SCHEDULER=True) == []


def test_w001_looks_at_the_lock_cache_not_the_default(scheduler_settings):
    caches = {**LOCMEM, "locks": REDIS["default"]}
    assert scheduler_settings(caches=caches, LOCK_CACHE="locks") == []
    caches = {**REDIS, "locks": LOCMEM["default"]}
    assert ids(scheduler_settings(caches=caches, LOCK_CACHE="locks")) == ["scheduler_app.W001"]


def test_every_message_has_a_hint(scheduler_settings):
    messages = scheduler_settings(EXECUTION="x", WORKERS=-1, LOCK_CACHE="nope", BOGUS=1)
    messages += messages_for(provider(base=""), provider(module_id="Bad", task_types={"x": None}))
    assert messages and all(m.hint for m in messages)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("10.0.0.0/8", "must be a list"),
        (None, "must be a list"),
        ({"10.0.0.0/8": True}, "must be a list"),
        (["10.0.0.0/33"], "'10.0.0.0/33' is not a network"),
        (["10.0.0.1/8"], "has host bits set"),
        (["intranet.example"], "'intranet.example' is not a network"),
        (["fd00::/129"], "'fd00::/129' is not a network"),
        ([10], "10 is not a string"),
        (["10.0.0.0/8", "192.168.1.0/240"], "'192.168.1.0/240' is not a network"),
    ],
)
def test_e030_bad_outbound_allowed_networks(scheduler_settings, value, fragment):
    [message] = scheduler_settings(OUTBOUND_ALLOWED_NETWORKS=value)
    assert message.id == "scheduler_app.E030"
    assert fragment in message.msg and "CIDR" in message.hint


@pytest.mark.parametrize(
    "value", [[], ["10.0.0.0/8"], ("127.0.0.1", "::1/128", "fd00:1::/64"), [" 10.0.0.0/8 "]]
)
def test_good_outbound_allowed_networks_pass(scheduler_settings, value):
    assert scheduler_settings(OUTBOUND_ALLOWED_NETWORKS=value) == []


def test_every_check_of_the_checks_package_is_registered_at_start_up():
    import importlib
    import inspect
    import pkgutil

    from django.core.checks import registry as check_registry

    import scheduler_app.checks as package

    # Read before this test imports any module: what start-up (AppConfig.ready) registered.
    registered = {(fn.__module__, fn.__name__) for fn in check_registry.registry.registered_checks}
    declared = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        declared |= {
            (module.__name__, name)
            for name, fn in vars(module).items()
            if name.startswith("check_")
            and inspect.isfunction(fn)
            and fn.__module__ == module.__name__
        }
    assert declared <= registered
    # W003, W022, E050/W050 and E060/W060 among them, from the modules that joined the package.
    assert {name for _module, name in declared} >= {
        "check_scheduler_urls",
        "check_stored_crons",
        "check_link_settings",
        "check_approvers",
        "check_hook_settings",
        "check_hook_secrets",
    }
