"""Make what a task body hands back storable, whatever it is.

PostgreSQL refuses NUL characters in text and JSON and lone surrogates
anywhere; SQLite's JSON_VALID check refuses NaN and Infinity; pickle (the
way back from a worker process) refuses lambdas, sockets and many more; and
``str()`` of an object may raise. Every value a body controls passes through
here before it leaves the worker and again before it is written, so one odd
value changes one run's record, never the pass.

The common case, a small dict of str, int, float, bool and None, takes a fast
path: one ``json.dumps`` and a few checks that run at C speed on its text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import math
import re
import uuid
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.functional import Promise

from scheduler_app.engine.runspec import Stop

REPLACEMENT = "\ufffd"  # stands for a character no database stores
MESSAGE_LIMIT = 10_000  # characters of a result's message and of a run's error
TRACEBACK_LIMIT = 50_000
MAX_DEPTH = 100  # nesting of a stored result; deeper levels are replaced by a note
MAX_INT_BITS = 1000  # larger integers are replaced by a note (JSON readers choke on them)
TRUNCATED = " … [truncated]"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_ENCODER = DjangoJSONEncoder()
_KNOWN = (dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal, uuid.UUID, Promise)


class _TooBig(Exception):
    pass


def describe(value: object) -> str:
    """``str(value)``, or a note naming its type when that raises or is no str."""
    try:
        text = str(value)
        if type(text) is str:
            return text
    except Stop:
        raise
    except BaseException:  # noqa: BLE001, S110 - a body's __str__ may raise anything
        pass
    return _unrepresentable(value)


def represent(value: object) -> str:
    """``repr(value)``, or a note naming its type when that raises or is no str."""
    try:
        text = repr(value)
        if type(text) is str:
            return text
    except Stop:
        raise
    except BaseException:  # noqa: BLE001, S110 - a body's __repr__ may raise anything
        pass
    return _unrepresentable(value)


def _unrepresentable(value: object) -> str:
    try:
        name = type(value).__qualname__
    except Exception:  # noqa: BLE001 - a metaclass may hide even that
        name = "object"
    return f"<unrepresentable {name}>"


def text(value: object, limit: int) -> str:
    """``value`` as text every database stores: a str without NUL or lone surrogates, cut at ``limit``."""
    if type(value) is not str:
        value = describe(value) if value is not None else ""
    if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
        value = _UNSTORABLE.sub(REPLACEMENT, value)
    if len(value) > limit:
        value = value[: max(0, limit - len(TRUNCATED))] + TRUNCATED
    return value


def json_value(value: Any, limit: int, *, copy: bool = True) -> Any:
    """``value`` as JSON both databases accept, at most about ``limit`` characters of it.

    Values JSON lacks become their text (dates in ISO 8601, decimals, objects by
    repr), NaN and the infinities the strings ``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"``, sets and tuples lists, other keys strings. A value larger
    than ``limit`` is replaced by a note saying so. With ``copy`` the result is
    made of plain dicts, lists and scalars only (it must survive pickling).
    """
    if value is None:
        return None
    encoded = _dumps(value)
    if encoded is not None and _plain(encoded, limit):
        return json.loads(encoded) if copy else value
    try:
        converted = _Walk(limit).convert(value, 1)
    except _TooBig:
        return _dropped(encoded, limit)
    encoded = json.dumps(converted, ensure_ascii=False)
    if len(encoded) > limit:
        return _dropped(encoded, limit)
    return converted


def _dumps(value: Any) -> str | None:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - a dict subclass's items() is the body's code
        return None


def _plain(encoded: str, limit: int) -> bool:
    """Whether JSON text needs no change: small, no NUL, no lone surrogate, shallow."""
    return (
        len(encoded) <= limit
        and "\\u0000" not in encoded
        and (encoded.isascii() or not _SURROGATE.search(encoded))
        # Each level of nesting opens a bracket: few brackets, no deep nesting.
        and (encoded.count("[") + encoded.count("{") <= MAX_DEPTH or _depth(encoded) <= MAX_DEPTH)
    )


def _depth(encoded: str) -> int:
    """How deep JSON text nests (brackets outside its strings), at C speed for the most part."""
    brackets = _BRACKET.findall(_JSON_STRING.sub("", encoded))
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _dropped(encoded: str | None, limit: int) -> str:
    size = f"{len(encoded):,} characters of JSON" if encoded is not None else "too large"
    return f"[result dropped: {size}, more than RESULT_LIMIT ({limit})]"


class _Walk:
    """Convert a value into plain JSON, spending at most ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.room = limit
        self.open: set[int] = set()  # containers being converted: a cycle comes back to one

    def spend(self, size: int) -> None:
        self.room -= size
        if self.room < 0:
            raise _TooBig

    def convert(self, value: Any, depth: int) -> Any:
        self.spend(1)
        kind = type(value)
        if value is None or kind is bool:
            return value
        if kind is str:
            return self.string(value)
        if kind is int:
            return self.integer(value)
        if kind is float:
            return self.real(value)
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            return self.container(value, depth)
        if isinstance(value, bool):
            return bool.__bool__(value)
        if isinstance(value, str):
            return self.string(str.__str__(value))
        if isinstance(value, int):
            return self.integer(int.__int__(value))
        if isinstance(value, float):
            return self.real(float.__float__(value))
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self.string(bytes(value).decode("utf-8", "replace"))
        if isinstance(value, _KNOWN):
            return self.string(describe(_known(value)))
        return self.string(represent(value))

    def string(self, value: str) -> str:
        self.spend(len(value))
        return text(value, len(value))

    def integer(self, value: int) -> int | str:
        if value.bit_length() > MAX_INT_BITS:
            return f"<integer of {value.bit_length()} bits>"
        return value

    @staticmethod
    def real(value: float) -> float | str:
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"

    def container(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return f"<nested more than {MAX_DEPTH} levels deep>"
        if id(value) in self.open:
            return "<circular reference>"
        self.open.add(id(value))
        try:
            if isinstance(value, dict):
                return {self.key(k): self.convert(v, depth + 1) for k, v in dict.items(value)}
            if isinstance(value, (set, frozenset)):
                return [self.convert(item, depth + 1) for item in _ordered(value)]
            return [self.convert(item, depth + 1) for item in _items(value)]
        except (_TooBig, Stop):
            raise
        except BaseException:  # noqa: BLE001 - a container subclass runs the body's code
            return self.string(represent(value))
        finally:
            self.open.discard(id(value))

    def key(self, key: Any) -> str:
        if type(key) is str:
            return self.string(key)
        if key is None or isinstance(key, (bool, int, float)):
            # As json.dumps writes them: true, null, 1, 1.5, NaN.
            return self.string(json.dumps(self.convert(key, MAX_DEPTH)).strip('"'))
        return self.string(represent(key))


def _known(value: Any) -> Any:
    try:
        return _ENCODER.default(value)
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - e.g. a lazy translation that fails
        return represent(value)


def _items(value: list | tuple) -> Iterator[Any]:
    return list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)


def _ordered(value: set | frozenset) -> list:
    items = list(set.__iter__(value) if isinstance(value, set) else frozenset.__iter__(value))
    try:
        return sorted(items)
    except Stop:
        raise
    except BaseException:  # noqa: BLE001 - mixed types do not sort; the order is then arbitrary
        return items
