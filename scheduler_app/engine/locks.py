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

# SET NX EX for every key in one server-side call; returns the 1-based indexes of the keys
# set. A pipeline of SETs costs ~12 us of client work per key (encoding, reply parsing) on
# the thread that also claims and records; one script call is one command and one reply.
ACQUIRE_SCRIPT = """
local won = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[1], 'NX', 'EX', ARGV[i + 1]) then
    won[#won + 1] = i
  end
end
return won
"""


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
            return _acquire_on_redis(client, cache, ttls, holder), False
        return {
            task_id
            for task_id, ttl in ttls.items()
            if cache.add(lock_key(task_id), holder, ttl + TTL_MARGIN)
        }, False
    except Exception as exc:  # noqa: BLE001 - an unreachable lock backend must not stop the pass
        logger.warning("Lock cache unreachable (%s); relying on the database lease.", exc)
        return set(ttls), True


def connect() -> None:
    """Open this thread's lock-cache client now (a daemon's threads, before their first
    pass): the first lock then costs a round trip, not a client and a connection."""
    try:
        client = _redis_client(_cache())
        if client is not None:
            client.ping()
    except Exception as exc:  # noqa: BLE001 - the pass reports an unreachable lock cache itself
        logger.debug("Lock cache not reachable at start (%s).", exc)


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


def _acquire_on_redis(client, cache, ttls: dict[int, int], holder: str) -> set[int]:  # noqa: ANN001
    """One script call for the whole batch; a pipeline where scripts are refused."""
    from redis.exceptions import ResponseError

    ids = list(ttls)
    keys = [cache.client.make_key(lock_key(task_id)) for task_id in ids]
    expiries = [ttls[task_id] + TTL_MARGIN for task_id in ids]
    try:
        won = client.register_script(ACQUIRE_SCRIPT)(keys=keys, args=[holder, *expiries])
        return {ids[int(i) - 1] for i in won}
    except ResponseError:
        # Scripting disabled (or a proxy that forbids it): SET NX EX pipelined, one round trip.
        pipe = client.pipeline(transaction=False)
        for key, expiry in zip(keys, expiries, strict=True):
            pipe.set(key, holder, nx=True, ex=expiry)
        results = pipe.execute()
        return {task_id for task_id, ok in zip(ids, results, strict=True) if ok}


def _redis_client(cache):  # noqa: ANN001, ANN202
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    if get_client is None or not type(cache).__module__.startswith("django_redis"):
        return None
    return get_client(write=True)
