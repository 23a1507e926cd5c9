"""Small modules, one job each (DESIGN.md, "Inside scheduler_app"): none grows past a bound."""

from __future__ import annotations

from pathlib import Path

import scheduler_app

PACKAGE = Path(scheduler_app.__file__).parent
#: Lines a module of scheduler_app may have: the design's ~400, with room for a docstring.
MAX_LINES = 450


def _sizes() -> dict[str, int]:
    return {
        path.relative_to(PACKAGE).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
    }


def test_no_module_of_scheduler_app_is_over_the_bound():
    too_long = {name: lines for name, lines in sorted(_sizes().items()) if lines > MAX_LINES}
    assert not too_long, f"Split these modules by job (over {MAX_LINES} lines): {too_long}"
