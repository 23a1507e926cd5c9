"""Write many rows in one statement: the engine's hot path avoids per-task round trips.

Django's ``bulk_update`` builds a CASE expression per field and row, and
``bulk_create`` renders a placeholder per value; both cost more CPU than the
work they save here. On PostgreSQL the rows travel as one JSON document,
unpacked server-side by ``jsonb_to_recordset`` (one parameter, C-speed
encoding, the same statement text whatever the row count). Other backends use
``executemany`` (update) and ``bulk_create`` (insert).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connections, models


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


def _recordset(fields: Sequence[models.Field], rows: Sequence[Sequence[Any]], connection) -> tuple[str, str]:  # noqa: ANN001
    """(``jsonb_to_recordset(...) AS v(c0 type, ...)`` SQL, the JSON parameter)."""
    columns = ", ".join(
        f"c{i} {'jsonb' if isinstance(f, models.JSONField) else f.cast_db_type(connection)}"
        for i, f in enumerate(fields)
    )
    payload = json.dumps([{f"c{i}": _plain(v) for i, v in enumerate(row)} for row in rows],
                         separators=(",", ":"))
    return f"jsonb_to_recordset(%s::jsonb) AS v({columns})", payload


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]],
                using: str = "default") -> int:
    """Update ``rows`` of ``(pk, value_for_each_field...)``; return the number of rows changed."""
    if not rows:
        return 0
    connection = connections[using]
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            source, payload = _recordset([meta.pk, *model_fields], rows, connection)
            assignments = ", ".join(f"{qn(f.column)} = v.c{i + 1}" for i, f in enumerate(model_fields))
            cursor.execute(f"UPDATE {table} AS t SET {assignments} FROM {source} "
                           f"WHERE t.{qn(meta.pk.column)} = v.c0", [payload])
            return cursor.rowcount
        prepared = [
            [f.get_db_prep_save(value, connection) for f, value in zip(model_fields, row[1:])]
            + [meta.pk.get_db_prep_save(row[0], connection)]
            for row in rows
        ]
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {qn(meta.pk.column)} = %s", prepared)
        return cursor.rowcount


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]],
                key: str, using: str = "default") -> dict[Any, int]:
    """Insert ``rows`` (a value for each of ``fields``); return {value of ``key``: new pk}.

    ``key`` names one of ``fields`` whose values are unique within ``rows``.
    Raises IntegrityError like a plain insert.
    """
    if not rows:
        return {}
    connection = connections[using]
    meta = model._meta
    key_index = list(fields).index(key)
    # Columns not given get their model default, as Model.save() would (the
    # database itself has no defaults for them).
    given = {meta.get_field(name).column for name in fields}
    missing = [f for f in meta.concrete_fields if not f.primary_key and f.column not in given]
    fields = [*fields, *(f.attname for f in missing)]
    defaults = [f.get_default() for f in missing]
    rows = [[*row, *defaults] for row in rows]
    model_fields = [meta.get_field(name) for name in fields]
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        source, payload = _recordset(model_fields, rows, connection)
        columns = ", ".join(qn(f.column) for f in model_fields)
        values = ", ".join(f"v.c{i}" for i in range(len(model_fields)))
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {values} FROM {source} "
                           f"RETURNING {qn(meta.pk.column)}, {qn(model_fields[key_index].column)}",
                           [payload])
            return {row_key: pk for pk, row_key in cursor.fetchall()}
    objects = [model(**dict(zip(fields, row))) for row in rows]
    model.objects.using(using).bulk_create(objects)
    return {row[key_index]: obj.pk for row, obj in zip(rows, objects)}
