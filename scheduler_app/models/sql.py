"""A model's table and column names, quoted, for statements written out by hand.

The questions a scheduler asks on every claim or twice a second (is a pause
window open, which runs were asked to stop, ...) are plain SQL written once:
building them through the ORM each time cost more CPU than the database spent
answering. These helpers keep the names in one place, quoted for the
connection's database, so such a statement still follows the models.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import TypeVar

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

T = TypeVar("T")

# Values bound in one statement: within every backend's parameter limit (SQLite's
# oldest is 999).
PER_STATEMENT = 500


def table(model: type[models.Model], connection: BaseDatabaseWrapper) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(model: type[models.Model], connection: BaseDatabaseWrapper) -> dict[str, str]:
    """{field name or attname: quoted column} of the model's concrete fields."""
    qn = connection.ops.quote_name
    found: dict[str, str] = {}
    for field in model._meta.concrete_fields:
        column = qn(field.column or field.name)
        found[field.name] = found[field.attname] = column
    return found


def placeholders(values: Sized) -> str:
    """``%s, %s, ...``: one parameter per value, for ``IN (...)``."""
    return ", ".join(["%s"] * len(values))


def chunks(values: Sequence[T]) -> list[Sequence[T]]:
    """``values`` in slices of at most PER_STATEMENT, one statement each."""
    return [values[i : i + PER_STATEMENT] for i in range(0, len(values), PER_STATEMENT)]
