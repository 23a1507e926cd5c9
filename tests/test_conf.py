"""The SCHEDULER settings dict: defaults, overrides, lazy reading and reset."""

from __future__ import annotations

import dataclasses

import pytest

from scheduler_app import conf


def test_every_default_is_a_field_and_every_field_has_a_default():
    assert {f.name for f in dataclasses.fields(conf.SchedulerSettings)} == set(conf.DEFAULTS)


def test_defaults_fill_in_what_the_project_does_not_set(settings):
    settings.SCHEDULER = {}
    s = conf.get()
    assert s.EXECUTION == "process"
    assert s.WORKERS == 2
    assert s.LOCK_CACHE == "default"
    assert s.DEFAULT_TIMEOUT == 300
    assert s.DEFAULT_MAX_RETRIES == 3
    assert s.LEASE_SECONDS == 120
    assert s.BATCH_SIZE == 500
    assert s.MISFIRE_GRACE == 3600
    assert s.EXPECT_SINGLE_SCHEDULER is False


def test_a_missing_or_empty_scheduler_setting_means_defaults(settings):
    del settings.SCHEDULER
    assert conf.get() == conf.SchedulerSettings(**conf.DEFAULTS)
    settings.SCHEDULER = None
    assert conf.get() == conf.SchedulerSettings(**conf.DEFAULTS)


def test_project_values_override_the_defaults(settings):
    settings.SCHEDULER = {"WORKERS": 8, "EXECUTION": "inline", "MISFIRE_GRACE": None}
    s = conf.get()
    assert (s.WORKERS, s.EXECUTION, s.MISFIRE_GRACE) == (8, "inline", None)
    assert s.BATCH_SIZE == conf.DEFAULTS["BATCH_SIZE"]


def test_settings_are_cached_until_the_setting_changes(settings):
    settings.SCHEDULER = {"WORKERS": 3}
    first = conf.get()
    assert conf.get() is first
    settings.SCHEDULER = {"WORKERS": 5}
    assert conf.get() is not first
    assert conf.get().WORKERS == 5


def test_other_settings_do_not_reset_the_cache(settings):
    first = conf.get()
    settings.TIME_ZONE = "Europe/Berlin"
    assert conf.get() is first


def test_the_test_settings_are_read():
    assert conf.get().WORKERS == 2


def test_unknown_keys_are_listed_and_ignored(settings):
    settings.SCHEDULER = {"WORKES": 4, "WORKERS": 1, "ZZZ": 0}
    assert conf.unknown_keys() == ["WORKES", "ZZZ"]
    assert conf.get().WORKERS == 1


def test_a_scheduler_setting_that_is_not_a_dict_reads_as_defaults(settings):
    settings.SCHEDULER = "fast please"
    assert conf.user_settings() == {}
    assert conf.get().WORKERS == conf.DEFAULTS["WORKERS"]


def test_user_settings_is_a_copy(settings):
    settings.SCHEDULER = {"WORKERS": 4}
    conf.user_settings()["WORKERS"] = 99
    assert settings.SCHEDULER == {"WORKERS": 4}


def test_settings_are_read_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        conf.get().WORKERS = 10  # type: ignore[misc]
