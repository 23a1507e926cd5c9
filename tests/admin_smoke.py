"""The admin smoke test: every scheduler page of the admin, and every page they link to, opens.

Self-contained on purpose: tests/test_admin_smoke.py runs it in this project, and
tests/test_packaging.py pipes this file into ``manage.py shell`` of a fresh project
built from the README's Quick start, so both pass the same walk.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

#: Links the walk never follows: they change state, leave the signed-in session, or are the
#: project's own home page ("View site"), which a fresh project does not have.
SKIPPED = re.compile(r"^/$|logout|/delete/|password|/do/|/stop/|\.ics$|^/static/|^/media/")
HREF = re.compile(r'href="(/[^"#]*)"')


def links_of(html: str) -> list[str]:
    """The site-relative links of a page, in order, without repeats."""
    found: list[str] = []
    for raw in HREF.findall(html):
        url = unescape(raw)
        if not SKIPPED.search(urlsplit(url).path) and url not in found:
            found.append(url)
    return found


def admin_smoke(client, task, *, max_pages: int = 150) -> dict[str, int]:  # noqa: ANN001
    """Open the scheduler's admin pages as ``client`` and every link on them; return url -> status.

    Fails (AssertionError, naming the page) on any answer but 200 or a redirect.
    """
    from django.urls import reverse

    start = [
        reverse("admin:index"),
        reverse("admin:app_list", args=["scheduler_app"]),
        reverse("admin:scheduler_app_scheduledtask_changelist"),
        reverse("admin:scheduler_app_scheduledtask_change", args=[task.pk]),
        reverse("admin:scheduler_app_scheduledtask_dashboard"),
    ]
    seen: dict[str, int] = {}
    queue = list(start)
    while queue and len(seen) < max_pages:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        assert response.status_code in (200, 301, 302), f"{url} answered {response.status_code}"
        if response.status_code == 200 and url in start:
            # One level deep: the links of the scheduler's own pages.
            queue += [link for link in links_of(response.content.decode()) if link not in seen]
    return seen
