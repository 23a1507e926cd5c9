"""One alert: what happened, to which task, and how it reads in a mail and a webhook."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from scheduler_app.schedules.timestamps import format_when, readable


@dataclass
class Alert:
    kind: str  # config.FAILED, STREAK, ABANDONED, OVERDUE or SILENT
    subject: str
    message: str
    at: dt.datetime
    task_id: int | None = None
    task_name: str = ""
    module_id: str = ""
    task_type: str = ""
    owner_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    suppressed: int = 0  # alerts of this key held back by the rate limit since the last one

    @property
    def key(self) -> str:
        """The rate-limit key: one per task and kind (``scheduler`` for scheduler-wide alerts)."""
        return f"{self.kind}:{self.task_id if self.task_id is not None else 'scheduler'}"

    def as_json(self) -> dict[str, Any]:
        """Every field, as JSON (the outbox row); :meth:`from_json` reads it back."""
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "at": self.at.isoformat(),
            "task_id": self.task_id,
            "task_name": self.task_name,
            "module_id": self.module_id,
            "task_type": self.task_type,
            "owner_id": self.owner_id,
            "details": self.details,
            "suppressed": self.suppressed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        return cls(**{**data, "at": dt.datetime.fromisoformat(data["at"])})

    def body(self) -> str:
        lines = [self.message, ""]
        if self.task_id is not None:
            lines.append(
                _("Task: %(name)s (#%(id)d, %(module)s.%(type)s)")
                % {
                    "name": self.task_name,
                    "id": self.task_id,
                    "module": self.module_id,
                    "type": self.task_type,
                }
            )
        for key, value in self.details.items():
            # The details keep ISO times for the webhook's JSON; the mail is read by people.
            lines.append(f"{key}: {readable(value)}")
        lines.append(_("At: %(at)s") % {"at": format_when(self.at)})
        if self.suppressed:
            lines += [
                "",
                _("%(count)d similar alert(s) were held back since the last one.")
                % {"count": self.suppressed},
            ]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body."""
        task = None
        if self.task_id is not None:
            task = {
                "id": self.task_id,
                "name": self.task_name,
                "module": self.module_id,
                "task_type": self.task_type,
            }
        return {
            "kind": self.kind,
            "subject": self.subject,
            "message": self.message,
            "at": self.at.isoformat(),
            "task": task,
            "details": self.details,
            "suppressed": self.suppressed,
        }
