"""Odd values a task body may return or raise, shared by the engine's isolation tests."""

from __future__ import annotations

import json

from scheduler_app.models import TaskExecutionLog


class StrRaises(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str() of this exception raises")


class ReprRaises(StrRaises):
    def __repr__(self) -> str:
        raise RuntimeError("repr() of this exception raises")


class NotPicklable(Exception):
    def __reduce__(self):  # noqa: ANN204
        raise TypeError("this exception cannot be pickled")


class OwnBaseException(BaseException):
    pass


class Opaque:
    """An object JSON does not know, whose repr and str raise."""

    def __repr__(self) -> str:
        raise ValueError("no repr")

    __str__ = __repr__


class Unpicklable:
    def __reduce__(self):  # noqa: ANN204
        raise TypeError("this object cannot be pickled")

    def __repr__(self) -> str:
        return "Unpicklable()"


class DictWhoseItemsRaise(dict):
    """A dict subclass: json.dumps asks its items(), which raise."""

    def items(self):  # noqa: ANN201
        raise RuntimeError("no items")


class StrSubclass(str):
    def __reduce__(self):  # noqa: ANN204
        raise TypeError("this str cannot be pickled")


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def assert_readable(log: TaskExecutionLog) -> None:
    """Every text of the run reads back and encodes (the admin can show it), its result too."""
    for value in (log.error_message, log.traceback, log.output, json.dumps(log.result)):
        value.encode("utf-8")
        assert "\x00" not in value
