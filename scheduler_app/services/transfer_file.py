"""Reading an export file from an untrusted source: bounded before anything is parsed.

Bounds: the file's size (``SCHEDULER["IMPORT_MAX_BYTES"]``), UTF-8 text, its nesting
depth (``bounds.MAX_JSON_DEPTH``, checked before the JSON parser runs, so no document
can exhaust the stack) and its numbers (finite, no NaN). The document read is then
checked by :func:`scheduler_app.services.transfer_schema.check`.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scheduler_app import bounds, conf
from scheduler_app.quoting import quote_input


def _depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text, without parsing it.

    Linear in C for any input: escapes are dropped, the text is split on quotes
    (odd parts are inside strings) and only the brackets outside strings are counted.
    """
    outside = "".join(re.sub(r"\\.", "", text, flags=re.DOTALL).split('"')[::2])
    brackets = re.sub(r"[^\[\]{}]+", "", outside)
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {quote_input(text)} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read(raw: bytes | str) -> Any:
    """A JSON document from an untrusted file: bounded in size and depth; ValidationError otherwise."""
    data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    limit = conf.get().IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ValidationError(
            _("The file has %(size)d bytes; an import reads at most %(limit)d.")
            % {"size": len(data), "limit": limit},
            code="too_large",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not UTF-8 text (byte %(at)d).") % {"at": exc.start}, code="not_utf8"
        ) from None
    if _depth(text) > bounds.MAX_JSON_DEPTH:
        raise ValidationError(
            _("The file is nested deeper than %(max)d levels; an export has 5.")
            % {"max": bounds.MAX_JSON_DEPTH},
            code="too_deep",
        )
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, a 5,000-digit integer, NaN
        message = " ".join(str(exc).split())[:200]
        raise ValidationError(
            _("The file is not JSON: %(error)s") % {"error": message}, code="not_json"
        ) from None
