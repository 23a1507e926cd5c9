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

from scheduler_app.models import sql


def _json_default(value: Any) -> Any:
    # Called by the C encoder only for what JSON lacks: dates and the like.
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(rows: Sequence[Sequence[Any]]) -> str:
    """``rows`` as one JSON array; each datetime object is converted once.

    A batch repeats the same datetime objects in many rows (the claim's ``now``,
    a slot shared by tasks); the rows keep them alive for the whole call, so
    their ids are stable keys.
    """
    seen: dict[int, str] = {}

    def default(value: Any) -> Any:
        key = id(value)
        text = seen.get(key)
        if text is None:
            text = seen[key] = _json_default(value)
        return text

    return json.dumps(rows, default=default, separators=(",", ":"))


def _elements(
    fields: Sequence[models.Field], rows: Sequence[Sequence[Any]], connection
) -> tuple[str, str, str]:  # noqa: ANN001
    """(FROM source, select list ``v0, v1, ...``, the JSON parameter) for rows sent as one array."""
    key = (connection.alias, tuple(fields))
    select = _select_lists.get(key)
    if select is None:
        columns = []
        for i, field in enumerate(fields):
            if isinstance(field, models.JSONField):
                columns.append(f"NULLIF(e->{i}, 'null'::jsonb) AS v{i}")
            else:
                columns.append(f"(e->>{i})::{field.cast_db_type(connection)} AS v{i}")
        select = _select_lists[key] = ", ".join(columns)
    return ("jsonb_array_elements(%s::jsonb) AS e", select, _dumps(rows))


# Select lists by (database alias, fields): the same few shapes are written on every
# claim and record; asking each field for its cast type was a fifth of a small record.
_select_lists: dict[tuple[str, tuple[models.Field, ...]], str] = {}


def update_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    using: str = "default",
    guard: dict[str, Any] | None = None,
) -> set[Any]:
    """Update ``rows`` of ``(pk, value_for_each_field...)``; return the pks changed.

    ``guard`` adds column = value conditions: rows not matching them stay as they are
    (e.g. only tasks still held under this lease).
    """
    if not rows:
        return set()
    connection = connections[using]
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    with connection.cursor() as cursor:
        guard_fields = [(meta.get_field(name), value) for name, value in (guard or {}).items()]
        if connection.vendor == "postgresql":
            source, select, payload = _elements([meta.pk, *model_fields], rows, connection)
            assignments = ", ".join(
                f"{qn(f.column)} = v.v{i + 1}" for i, f in enumerate(model_fields)
            )
            conditions = "".join(f" AND t.{qn(f.column)} = %s" for f, _ in guard_fields)
            cursor.execute(
                f"UPDATE {table} AS t SET {assignments} FROM (SELECT {select} FROM {source}) AS v "
                f"WHERE t.{qn(meta.pk.column)} = v.v0{conditions} RETURNING t.{qn(meta.pk.column)}",
                [payload, *(f.get_db_prep_value(value, connection) for f, value in guard_fields)],
            )
            return {row[0] for row in cursor.fetchall()}
        if guard_fields:
            conditions = " AND ".join(f"{qn(f.column)} = %s" for f, _ in guard_fields)
            ids = [row[0] for row in rows]
            placeholders = sql.placeholders(ids)
            cursor.execute(
                f"SELECT {qn(meta.pk.column)} FROM {table} WHERE {conditions} "
                f"AND {qn(meta.pk.column)} IN ({placeholders})",
                [*(f.get_db_prep_value(v, connection) for f, v in guard_fields), *ids],
            )
            held = {row[0] for row in cursor.fetchall()}
            rows = [row for row in rows if row[0] in held]
        prepared = [
            [
                f.get_db_prep_save(value, connection)
                for f, value in zip(model_fields, row[1:], strict=True)
            ]
            + [meta.pk.get_db_prep_save(row[0], connection)]
            for row in rows
        ]
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE {qn(meta.pk.column)} = %s", prepared
        )
        return {row[0] for row in rows}


def _default(field: models.Field) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        from django.utils import timezone

        return timezone.now()
    return field.get_default()


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence[Any]],
    key: str,
    using: str = "default",
) -> dict[Any, int]:
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
    defaults = [_default(f) for f in missing]
    rows = [[*row, *defaults] for row in rows]
    model_fields = [meta.get_field(name) for name in fields]
    if connection.vendor == "postgresql":
        qn = connection.ops.quote_name
        source, select, payload = _elements(model_fields, rows, connection)
        columns = ", ".join(qn(f.column) for f in model_fields)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {select} FROM {source} "
                f"RETURNING {qn(meta.pk.column)}, {qn(model_fields[key_index].column)}",
                [payload],
            )
            return {row_key: pk for pk, row_key in cursor.fetchall()}
    objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
    model.objects.using(using).bulk_create(objects)
    return {row[key_index]: obj.pk for row, obj in zip(rows, objects, strict=True)}
