"""The provider registry: register, unregister, look-ups, autodiscovery."""

from __future__ import annotations

import sys
import types

import pytest
from django.apps import apps

from scheduler_app import SchedulableTask, TaskProvider, TaskResult, register
from scheduler_app.exceptions import AlreadyRegistered, NotRegistered, RegistryError, SchedulerError
from scheduler_app.registry import ProviderRegistry, registry


class Ping(SchedulableTask):
    name = "Ping"

    def execute(self, context):
        return TaskResult.success()


class Pong(Ping):
    name = "Pong"


class AlphaProvider(TaskProvider):
    module_id = "alpha"
    base_permission = "SA_ALPHA"
    task_types = {"ping": Ping, "pong": Pong}


class BetaProvider(TaskProvider):
    module_id = "beta"
    name = "Beta things"
    base_permission = "SA_BETA"
    task_types = {"ping": Ping}


class AlphaImpostor(TaskProvider):
    module_id = "alpha"
    base_permission = "SA_ALPHA2"
    task_types = {}


@pytest.fixture
def reg() -> ProviderRegistry:
    fresh = ProviderRegistry()
    fresh.register(AlphaProvider)
    fresh.register(BetaProvider)
    return fresh


@pytest.fixture
def restore_global_registry():
    """Leave the app's registry exactly as the test found it."""
    saved, conflicts = dict(registry._registry), list(registry.conflicts)
    yield registry
    registry._registry.clear()
    registry._registry.update(saved)
    registry.conflicts[:] = conflicts


def test_register_and_look_up(reg):
    assert reg.is_registered("alpha")
    assert reg.get("alpha") is AlphaProvider
    assert reg.get_task_type("alpha", "pong") is Pong
    assert reg.resolve("beta.ping") is Ping
    assert reg.providers() == [AlphaProvider, BetaProvider]
    assert reg.task_type_keys() == ["alpha.ping", "alpha.pong", "beta.ping"]


def test_register_returns_the_class_unchanged_and_is_idempotent(reg):
    assert reg.register(AlphaProvider) is AlphaProvider
    assert reg.conflicts == []
    assert reg.providers() == [AlphaProvider, BetaProvider]


def test_duplicate_module_id_is_kept_as_a_conflict_naming_both_classes(reg):
    assert reg.register(AlphaImpostor) is AlphaImpostor
    assert reg.get("alpha") is AlphaProvider  # the first one stays
    [(provider, message)] = reg.conflicts
    assert provider is AlphaImpostor
    assert "AlphaImpostor" in message and "AlphaProvider" in message and "'alpha'" in message
    reg.register(AlphaImpostor)
    assert len(reg.conflicts) == 1  # reported once


def test_duplicate_module_id_raises_when_strict(reg):
    with pytest.raises(AlreadyRegistered, match="AlphaProvider"):
        reg.register(AlphaImpostor, strict=True)
    assert reg.conflicts == []


def test_unregister_removes_the_provider_and_its_clashes(reg):
    reg.register(AlphaImpostor)
    reg.unregister("alpha")
    assert not reg.is_registered("alpha")
    assert reg.conflicts == []
    assert reg.providers() == [BetaProvider]


def test_unregister_unknown_module_names_the_known_ones(reg):
    with pytest.raises(NotRegistered, match="gamma.*alpha, beta"):
        reg.unregister("gamma")


def test_get_unknown_module_names_the_known_ones(reg):
    with pytest.raises(NotRegistered) as excinfo:
        reg.get("gamma")
    assert "'gamma'" in str(excinfo.value) and "alpha, beta" in str(excinfo.value)


def test_get_on_an_empty_registry_says_so():
    with pytest.raises(NotRegistered, match="none registered"):
        ProviderRegistry().get("alpha")


def test_unknown_task_type_names_the_known_task_types(reg):
    with pytest.raises(NotRegistered) as excinfo:
        reg.resolve("alpha.pang")
    assert "'pang'" in str(excinfo.value) and "ping, pong" in str(excinfo.value)


def test_resolve_needs_a_dotted_key(reg):
    with pytest.raises(NotRegistered, match=r"module\.task_type.*alpha\.ping"):
        reg.resolve("alpha")


def test_registry_errors_belong_to_the_scheduler_family():
    assert issubclass(NotRegistered, RegistryError)
    assert issubclass(AlreadyRegistered, RegistryError)
    assert issubclass(RegistryError, SchedulerError)


def test_clear_empties_the_registry(reg):
    reg.register(AlphaImpostor)
    reg.clear()
    assert reg.providers() == [] and reg.conflicts == []


def test_register_decorator_adds_to_the_app_registry(restore_global_registry):
    @register
    class GammaProvider(TaskProvider):
        module_id = "gamma_test"
        base_permission = "SA_GAMMA_TEST"
        task_types = {"ping": Ping}

    assert registry.get("gamma_test") is GammaProvider


@pytest.mark.parametrize("thing", [object, Ping, TaskProvider(), "reports", None])
def test_register_decorator_refuses_what_is_not_a_provider_class(thing, restore_global_registry):
    with pytest.raises(TypeError, match="TaskProvider subclass"):
        register(thing)


def test_provider_names_and_permissions():
    assert AlphaProvider.verbose_name() == "Alpha"
    assert BetaProvider.verbose_name() == "Beta things"
    assert AlphaProvider.admin_permission_name() == "SA_ALPHA_ADMIN"

    class Explicit(AlphaProvider):
        admin_permission = "SA_ALPHA_BOSS"

    assert Explicit.admin_permission_name() == "SA_ALPHA_BOSS"


# -- autodiscovery ----------------------------------------------------------------


def test_apps_ready_discovered_the_test_module():
    from tests.testapp.scheduler_tasks import Record, TestProvider

    assert registry.get("testmod") is TestProvider
    assert registry.resolve("testmod.record") is Record
    assert apps.get_app_config("scheduler_app").registry is registry


def test_autodiscover_is_repeatable(restore_global_registry):
    before = registry.providers()
    registry.autodiscover()
    assert registry.providers() == before
    assert registry.conflicts == restore_global_registry.conflicts


def test_autodiscover_rolls_back_a_module_that_fails_to_import(monkeypatch):
    """A scheduler_tasks module that raises half-way leaves no half registration."""
    reg = ProviderRegistry()
    package = types.ModuleType("brokenapp")
    package.__path__ = []  # a package, so module_has_submodule is asked
    monkeypatch.setitem(sys.modules, "brokenapp", package)

    class FakeConfig:
        name = "brokenapp"
        module = package

    def fail_import(name, *args, **kwargs):
        reg.register(AlphaProvider)
        raise ImportError("boom")

    monkeypatch.setattr(apps, "get_app_configs", lambda: [FakeConfig()])
    monkeypatch.setattr("django.utils.module_loading.import_module", fail_import)
    monkeypatch.setattr("django.utils.module_loading.module_has_submodule", lambda *a: True)
    with pytest.raises(ImportError, match="boom"):
        reg.autodiscover()
    assert reg.providers() == []
