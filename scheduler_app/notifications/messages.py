"""What a notification says (Message) and who sends it (Origin): plain values shared by
the channels and the delivery."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from scheduler_app.context import TaskContext


@dataclass(frozen=True)
class Message:
    """What to tell: a subject, a text body, optionally HTML and a link."""

    subject: str
    text: str
    html: str = ""
    url: str = ""
    level: str = "info"
    #: Tells apart the messages one run sends to the same user (default: subject and text).
    key: str = ""

    @classmethod
    def render(
        cls,
        template: str,
        values: dict[str, Any],
        *,
        subject: str,
        url: str = "",
        level: str = "info",
        key: str = "",
    ) -> Message:
        """Build the text from ``<template>.txt`` and the HTML from ``<template>.html`` if it exists."""
        text = str(render_to_string(f"{template}.txt", values)).strip()
        html = ""
        try:
            html = str(render_to_string(f"{template}.html", values))
        except TemplateDoesNotExist:
            pass
        return cls(subject=subject, text=text, html=html, url=url, level=level, key=key)

    @property
    def fingerprint(self) -> str:
        source = self.key or f"{self.subject}\n{self.text}"
        return hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Origin:
    """Who sends: the task and run, for links, the footer and de-duplication."""

    task_id: int | None = None
    task_name: str = ""
    module_id: str = ""
    #: The run's occurrence; empty: no de-duplication.
    run_key: str = ""

    @classmethod
    def of(cls, context: TaskContext) -> Origin:
        when = context.scheduled_for.isoformat() if context.scheduled_for else context.run_id
        return cls(
            task_id=context.task_id,
            task_name=context.name,
            module_id=context.module_id,
            run_key=f"{context.task_id}@{when}" if when else "",
        )

    def delivery_key(self, message: Message) -> str:
        return f"{self.run_key}#{message.fingerprint}"[:200] if self.run_key else ""
