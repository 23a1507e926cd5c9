"""No-overlap locks (scheduler_app.engine.locks): a batch taken at once.

On the configured cache, and on a Redis server of the test's own through
django-redis (the script, its TTLs, and the pipeline where scripts are refused).
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import caches

from scheduler_app.engine import locks

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_redis(own_redis, settings):
    """The locks in a django-redis cache on a Redis server of this test alone."""
    _server, url = own_redis
    settings.CACHES = {
        **settings.CACHES,
        "locks": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url},
    }
    settings.SCHEDULER = {**settings.SCHEDULER, "LOCK_CACHE": "locks"}
    return caches["locks"]


@pytest.fixture
def clean_locks():
    ids = list(range(9_000_001, 9_000_006))
    for task_id in ids:
        locks.clear_lock(task_id)
    yield ids
    for task_id in ids:
        locks.clear_lock(task_id)


def test_a_batch_takes_the_free_locks_and_leaves_the_held_ones(clean_locks):
    _take_the_free_ones(clean_locks)


def test_on_redis_a_batch_takes_the_free_locks_and_leaves_the_held_ones(on_redis, clean_locks):
    _take_the_free_ones(clean_locks)
    # Taken by the one script call, which the server now keeps by its digest.
    digest = hashlib.sha1(locks.ACQUIRE_SCRIPT.encode()).hexdigest()
    assert on_redis.client.get_client(write=True).script_exists(digest) == [True]


def _take_the_free_ones(clean_locks: list[int]) -> None:
    first, second, third, *_ = clean_locks
    got, degraded = locks.acquire_many({second: 30}, "another scheduler")
    assert got == {second} and not degraded

    got, degraded = locks.acquire_many({first: 30, second: 30, third: 600}, "this scheduler")

    assert got == {first, third} and not degraded
    assert all(locks.is_locked(task_id) for task_id in (first, second, third))
    locks.release_many([first, third])
    assert not locks.is_locked(first) and not locks.is_locked(third)
    assert locks.is_locked(second)  # released only by its own holder's run


def test_on_redis_each_lock_expires_after_its_own_timeout_and_the_margin(on_redis, clean_locks):
    first, second, *_ = clean_locks
    locks.acquire_many({first: 30, second: 600}, "this scheduler")
    cache = on_redis
    client = cache.client.get_client(write=True)
    ttl = {
        task_id: client.ttl(cache.client.make_key(locks.lock_key(task_id)))
        for task_id in (first, second)
    }
    assert 30 < ttl[first] <= 30 + locks.TTL_MARGIN
    assert 600 < ttl[second] <= 600 + locks.TTL_MARGIN


def test_a_redis_that_refuses_scripts_gets_the_same_locks_by_pipeline(
    on_redis, clean_locks, monkeypatch
):
    first, second, third, *_ = clean_locks
    locks.acquire_many({second: 30}, "another scheduler")
    # A real refusal from the server: an unknown command inside the script.
    monkeypatch.setattr(locks, "ACQUIRE_SCRIPT", "return redis.call('NO_SUCH_COMMAND')")

    got, degraded = locks.acquire_many({first: 30, second: 30, third: 30}, "this scheduler")

    assert got == {first, third} and not degraded
