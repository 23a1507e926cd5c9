"""The task page's audit trail: who did what, field by field, when and from where.

Filterable by action, source and person (``audit_action``, ``audit_source``,
``audit_actor`` in the query string) and paged like the execution history.
The changes were masked when they were recorded (secrets show as the mask).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from scheduler_app import policy
from scheduler_app.models import AuditAction, AuditSource, ScheduledTask
from scheduler_app.presentation import display
from scheduler_app.schedules import timestamps

PER_PAGE = 20
PAGE_PARAM = "audit_page"
MAX_PAGE = 10_000
ACTOR_LIMIT = 150  # a username's length
VALUE_LIMIT = 200  # characters of one old or new value shown


def _value(value: Any, zone: Any = None) -> str:
    if value is None or value == "":
        return "—"
    value = timestamps.readable(value, zone)  # a time kept as ISO text reads as every other
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def change_lines(changes: Any, zone: Any = None) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` for each recorded change ("" old and new: a note, not a pair);
    times in ``zone`` (a task, a zone name, or None: the current zone)."""
    if not isinstance(changes, dict):
        return []
    lines = []
    for name, pair in sorted(changes.items()):
        if isinstance(pair, list) and len(pair) == 2:
            lines.append((str(name), _value(pair[0], zone), _value(pair[1], zone)))
        else:
            lines.append((str(name), "", _value(pair, zone)))
    return lines


def _filters(request: HttpRequest) -> dict[str, str]:
    action = request.GET.get("audit_action", "")
    source = request.GET.get("audit_source", "")
    return {
        "action": action if action in AuditAction.values else "",
        "source": source if source in AuditSource.values else "",
        # A NUL names nobody (and PostgreSQL refuses it in a query): it is dropped.
        "actor": request.GET.get("audit_actor", "").replace("\x00", "").strip()[:ACTOR_LIMIT],
    }


def _page(request: HttpRequest) -> int:
    value = request.GET.get(PAGE_PARAM, "1").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_PAGE)):
        return 1
    return min(MAX_PAGE, max(1, int(value)))


def audit_trail(request: HttpRequest, task: ScheduledTask) -> dict[str, Any] | None:
    """One filtered page of the task's audit events; None if the user may not see them."""
    if not policy.can_view_history(request.user, task):
        return None
    from scheduler_app.services import audit  # the page's only use of the services

    chosen = _filters(request)
    events = audit.history(task)
    if chosen["action"]:
        events = events.filter(action=chosen["action"])
    if chosen["source"]:
        events = events.filter(source=chosen["source"])
    if chosen["actor"]:
        events = events.filter(actor_name__iexact=chosen["actor"])
    page = _page(request)
    start = (page - 1) * PER_PAGE
    found = list(events[start : start + PER_PAGE + 1])
    params = request.GET.copy()

    def link(number: int) -> str:
        params[PAGE_PARAM] = str(number)
        return "?" + params.urlencode() + "#task-audit"

    rows = [
        {
            "event": event,
            "when": display.when(event.at, task),
            "who": event.actor_name or _("the system"),
            "changes": change_lines(event.changes, task),
        }
        for event in found[:PER_PAGE]
    ]
    return {
        "rows": rows,
        "page": page,
        "filters": chosen,
        "actions": AuditAction.choices,
        "sources": AuditSource.choices,
        "newer_url": link(page - 1) if page > 1 else "",
        "older_url": link(page + 1) if len(found) > PER_PAGE else "",
    }
