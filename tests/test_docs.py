"""The docs keep up with the code: every setting and every system check id is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from scheduler_app import conf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "scheduler_app"
CHECK_ID = re.compile(r"""["'](scheduler_app\.[CEW]\d{3})["']""")


def literal(value: Any) -> str:
    """Write a default as the settings page shows it: Python, with double-quoted strings."""
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def table_rows(text: str) -> dict[str, str]:
    """Map each `KEY` in the first column of the page's tables to the row's default column."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\| `([A-Z0-9_]+)` \| `(.*?)` \|", line)
        if match:
            rows.setdefault(match[1], match[2])
    return rows


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def test_every_scheduler_setting_is_documented_with_its_default():
    rows = table_rows(section((DOCS / "settings.md").read_text(), "## `SCHEDULER` keys"))
    missing = sorted(set(conf.DEFAULTS) - set(rows))
    assert not missing, f"docs/settings.md does not document SCHEDULER keys: {missing}"
    wrong = {
        key: (rows[key], literal(default))
        for key, default in conf.DEFAULTS.items()
        if rows[key] != literal(default)
    }
    assert not wrong, f"docs/settings.md shows other defaults (shown, actual): {wrong}"
    stale = sorted(set(rows) - set(conf.DEFAULTS))
    assert not stale, f"docs/settings.md documents keys scheduler_app does not know: {stale}"


def test_every_alerts_setting_is_documented_with_its_default():
    from scheduler_app.monitoring.alerts import config as alert_config

    rows = table_rows(section((DOCS / "settings.md").read_text(), '## `SCHEDULER["ALERTS"]` keys'))
    defaults = alert_config.ALERT_DEFAULTS
    assert set(rows) == set(defaults), "docs/settings.md: ALERTS keys differ from ALERT_DEFAULTS"
    wrong = {
        key: (rows[key], literal(value))
        for key, value in defaults.items()
        if rows[key] != literal(value)
    }
    assert not wrong, f"docs/settings.md shows other ALERTS defaults (shown, actual): {wrong}"


def check_ids_in_code() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        found.update(CHECK_ID.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_system_check_id_has_a_troubleshooting_entry():
    in_code = check_ids_in_code()
    assert len(in_code) >= 10, "the check ids were not found in scheduler_app"
    documented = set(
        re.findall(
            r"^### (scheduler_app\.[CEW]\d{3})$", (DOCS / "troubleshooting.md").read_text(), re.M
        )
    )
    missing = sorted(in_code - documented)
    assert not missing, f"docs/troubleshooting.md has no section for: {missing}"
    stale = sorted(documented - in_code)
    assert not stale, f"docs/troubleshooting.md documents ids no check reports: {stale}"


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    missing = [page for page in pages if f": {page}\n" not in nav]
    assert not missing, f"mkdocs.yml nav misses: {missing}"


def test_readme_links_the_docs():
    readme = (ROOT / "README.md").read_text()
    for page in (
        "docs/installation.md",
        "docs/tutorial.md",
        "docs/settings.md",
        "docs/operations.md",
        "docs/troubleshooting.md",
    ):
        assert f"]({page})" in readme, f"README.md does not link {page}"
