"""Write many rows in one statement: the engine's hot path avoids per-task round trips.

Django's ``bulk_update`` builds a CASE expression per field and row, which
costs more CPU than the work it saves here; PostgreSQL gets one
``UPDATE ... FROM (VALUES ...)`` and other backends one ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
import json
from typing import Any

from django.db import connections, models


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]],
                using: str = "default") -> int:
    """Update ``rows`` of ``(pk, value_for_each_field...)``; return the number of rows changed."""
    if not rows:
        return 0
    connection = connections[using]
    meta = model._meta
    pk_field = meta.pk
    model_fields = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    prepared = [
        [pk_field.get_db_prep_save(row[0], connection)]
        + [f.get_db_prep_save(value, connection) for f, value in zip(model_fields, row[1:])]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter per column, unnested server-side: the statement
            # text is the same whatever the row count, so it parses once.
            all_fields = [pk_field, *model_fields]
            columns = [
                [_pg_value(f, row[i]) for row in prepared] for i, f in enumerate(all_fields)
            ]
            selects = ", ".join(
                f"unnest(%s::{_pg_array_type(f, connection)}) AS c{i}" for i, f in enumerate(all_fields)
            )
            assignments = ", ".join(f"{qn(f.column)} = v.c{i + 1}" for i, f in enumerate(model_fields))
            sql = (f"UPDATE {table} AS t SET {assignments} FROM (SELECT {selects}) AS v "
                   f"WHERE t.{qn(pk_field.column)} = v.c0")
            cursor.execute(sql, columns)
            return cursor.rowcount
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
        sql = f"UPDATE {table} SET {assignments} WHERE {qn(pk_field.column)} = %s"
        cursor.executemany(sql, [row[1:] + row[:1] for row in prepared])
        return cursor.rowcount


def _pg_array_type(field: models.Field, connection) -> str:  # noqa: ANN001
    if isinstance(field, models.JSONField):
        return "jsonb[]"
    return f"{field.cast_db_type(connection)}[]"


def _pg_value(field: models.Field, value: Any) -> Any:
    if isinstance(field, models.JSONField):
        # Jsonb adapters cannot sit in a list; send the JSON text and cast it.
        obj = getattr(value, "obj", value)
        return None if obj is None else json.dumps(obj, cls=getattr(field, "encoder", None))
    return value
