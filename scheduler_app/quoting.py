"""User input quoted in messages: one bound, one helper (DESIGN.md: at most ~80 characters).

A message may quote what was given so the user sees what was refused, but a pasted
novel must not come back whole in a form error, a 400 answer or a log line. Every
quote of input goes through :func:`quote_input`; a message built elsewhere (a
config form's own messages, a validator of a project's module) is bounded by
:func:`clip_inputs`, which finds the input it repeats, and by :func:`bound_message`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Characters of one piece of input quoted in a message (the last is "…").
QUOTE_LIMIT = 80
#: Characters of one whole error message.
MESSAGE_LIMIT = 300
# Input collected from nested arguments: enough for any form, never unbounded work.
_MAX_TEXTS, _MAX_DEPTH = 200, 8


def quote_input(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as text fit to quote in a message: at most ``limit`` characters, then "…".

    Text is quoted as it is; anything else by ``repr`` (a list, None, a number).
    """
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:  # noqa: BLE001 - an object whose repr() raises is still named
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bound_message(message: str) -> str:
    """``message`` cut to MESSAGE_LIMIT characters."""
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def long_inputs(*values: Any) -> set[str]:
    """The pieces of text in ``values`` (nested dicts, lists, tuples) too long to quote whole.

    A form strips what it reads, so each piece is also kept stripped.
    """
    found: set[str] = set()
    stack: list[tuple[Any, int]] = [(v, 0) for v in values]
    while stack and len(found) < _MAX_TEXTS:
        value, depth = stack.pop()
        if isinstance(value, str):
            for text in (value, value.strip()):
                if len(text) > QUOTE_LIMIT:
                    found.add(text)
        elif depth < _MAX_DEPTH and isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif depth < _MAX_DEPTH and isinstance(value, (list, tuple, set, frozenset)):
            stack.extend((item, depth + 1) for item in list(value)[:_MAX_TEXTS])
    return found


def clip_inputs(message: str, inputs: Iterable[str]) -> str:
    """``message`` with every long input it repeats cut to a quote of QUOTE_LIMIT characters."""
    for text in sorted(inputs, key=len, reverse=True):
        if text in message:
            message = message.replace(text, quote_input(text))
    return message
