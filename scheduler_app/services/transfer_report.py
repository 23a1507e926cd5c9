"""What an import does: one Change per task or calendar, and the report printed by the command."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scheduler_app.models import ScheduledTask


@dataclass
class Change:
    """What the import does to one task or calendar."""

    action: str  # "create", "update", "unchanged", "kept" (calendars)
    kind: str  # "task" or "calendar"
    label: str
    fields: dict[str, list[Any]] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)
    target: ScheduledTask | None = None
    #: "tasks[3]" or "calendars[0]": where the entry is in the file.
    where: str = ""


@dataclass
class ImportReport:
    changes: list[Change]
    dry_run: bool
    applied: bool = False
    #: Keys ignored (``allow_unknown_keys``), owners left as they are.
    warnings: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def text(self) -> str:
        marks = {"create": "+", "update": "~", "unchanged": "=", "kept": "="}
        lines = [f"! {warning}" for warning in self.warnings]
        for change in self.changes:
            line = (
                f"{marks.get(change.action, '?')} {change.action:<9} {change.kind} {change.label}"
            )
            if change.fields:
                line += ": " + "; ".join(
                    f"{name}: {_show(old)} → {_show(new)}"
                    for name, (old, new) in change.fields.items()
                )
            lines.append(line)
        would = "would be " if self.dry_run else ""
        tasks = [c for c in self.changes if c.kind == "task"]
        cals = [c for c in self.changes if c.kind == "calendar"]
        lines.append(
            f"Tasks: {sum(c.action == 'create' for c in tasks)} {would}created, "
            f"{sum(c.action == 'update' for c in tasks)} {would}updated, "
            f"{sum(c.action == 'unchanged' for c in tasks)} unchanged. "
            f"Calendars: {sum(c.action == 'create' for c in cals)} {would}created, "
            f"{sum(c.action == 'kept' for c in cals)} kept as they are."
            + (" Dry run: nothing was saved." if self.dry_run else "")
        )
        return "\n".join(lines)


def _show(value: Any) -> str:
    return "—" if value in (None, "", []) else repr(value) if isinstance(value, str) else str(value)
