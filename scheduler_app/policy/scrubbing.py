"""Keep a task's secrets out of what a run shows: result, error, traceback, output, progress.

The config is masked by :func:`scheduler_app.task_configs.masked_config`, as in the
admin. A task body may still echo a secret it was given; each secret value
(and, for ``Header: value`` lines, each value) is replaced by the same mask
wherever it appears in a run's texts.
"""

from __future__ import annotations

from typing import Any

from scheduler_app import task_configs
from scheduler_app.exceptions import NotRegistered
from scheduler_app.registry import registry

#: Shorter values are not searched for (they would mask ordinary words).
MIN_SECRET_LENGTH = 4
#: Depth of a result searched; deeper values are kept as they are.
MAX_DEPTH = 20


def secret_values(task: Any) -> list[str]:
    """The task's secret config values, longest first."""
    config = task.config if isinstance(task.config, dict) else {}
    try:
        names = registry.get_task_type(task.module_id, task.task_type).secret_fields
    except NotRegistered:
        names = tuple(config)  # unknown type: every value may be a secret
    found: set[str] = set()
    for name in names or ():
        value = config.get(name)
        if value in (None, "", task_configs.SECRET_MASK):
            continue
        text = str(value)
        found.add(text.strip())
        for line in text.splitlines():
            found.add(line.strip())
            found.add(line.partition(":")[2].strip())
    return sorted((v for v in found if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def scrub(value: Any, secrets: list[str], depth: int = 0) -> Any:
    """``value`` with every secret replaced by the mask (strings, lists and dicts)."""
    if not secrets or depth > MAX_DEPTH:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, task_configs.SECRET_MASK)
        return value
    if isinstance(value, list):
        return [scrub(item, secrets, depth + 1) for item in value]
    if isinstance(value, dict):
        return {
            scrub(str(k), secrets, depth + 1): scrub(v, secrets, depth + 1)
            for k, v in value.items()
        }
    return value
