"""No-overlap locks in the configured cache (django-redis in production).

A lock is taken when a run is dispatched and released when it is recorded;
its TTL (timeout + margin) frees it if the scheduler dies. When the cache is
unreachable the engine logs a warning and relies on the database lease: a
claimed task is ``running`` and cannot be claimed again, so nothing runs twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.cache import caches

from scheduler_app import conf

logger = logging.getLogger("scheduler_app.engine")
TTL_MARGIN = 60


def _cache():  # noqa: ANN202
    return caches[conf.get().LOCK_CACHE]


def lock_key(task_id: int) -> str:
    return f"{conf.get().LOCK_PREFIX}{task_id}"


def acquire_many(ttls: dict[int, int], holder: str) -> tuple[set[int], bool]:
    """Try to lock each task id for its TTL; return (locked ids, degraded)."""
    if not ttls:
        return set(), False
    cache = _cache()
    try:
        client = _redis_client(cache)
        if client is not None:
            # One round trip for the whole batch: SET NX EX pipelined.
            pipe = client.pipeline(transaction=False)
            ids = list(ttls)
            for task_id in ids:
                pipe.set(
                    cache.client.make_key(lock_key(task_id)),
                    holder,
                    nx=True,
                    ex=ttls[task_id] + TTL_MARGIN,
                )
            results = pipe.execute()
            return {task_id for task_id, ok in zip(ids, results, strict=True) if ok}, False
        return {
            task_id
            for task_id, ttl in ttls.items()
            if cache.add(lock_key(task_id), holder, ttl + TTL_MARGIN)
        }, False
    except Exception as exc:  # noqa: BLE001 - an unreachable lock backend must not stop the pass
        logger.warning("Lock cache unreachable (%s); relying on the database lease.", exc)
        return set(ttls), True


def release_many(task_ids: Iterable[int]) -> None:
    keys = [lock_key(task_id) for task_id in task_ids]
    if not keys:
        return
    try:
        _cache().delete_many(keys)
    except Exception as exc:  # noqa: BLE001 - the TTL frees the lock anyway
        logger.warning("Could not release %d lock(s) (%s); they expire by TTL.", len(keys), exc)


def is_locked(task_id: int) -> bool:
    try:
        # has_key, not get: on Redis the lock is a raw SET NX value the cache cannot unpickle.
        return _cache().has_key(lock_key(task_id))
    except Exception:  # noqa: BLE001
        return False


def clear_lock(task_id: int) -> bool:
    """Remove a task's overlap lock (an operator's tool); True if one was held."""
    held = is_locked(task_id)
    try:
        _cache().delete(lock_key(task_id))
    except Exception as exc:  # noqa: BLE001
        logger.warning("Could not clear the lock of task %s (%s).", task_id, exc)
        return False
    return held


def _redis_client(cache):  # noqa: ANN001, ANN202
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    if get_client is None or not type(cache).__module__.startswith("django_redis"):
        return None
    return get_client(write=True)
