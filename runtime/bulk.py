"""Fast appends of many rows known to be new (the sweep's audit rows and escalations).

On PostgreSQL, COPY: tens of thousands of rows in a fraction of a second, where bulk_create
spends seconds preparing each value in Python. Elsewhere, bulk_create. Rows go in the current
transaction; a conflict (a row that was not new after all) fails the transaction, so callers use
this only where their claim guarantees the rows are new."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (one value per name in `fields`, attnames such as "actor_id") into `model`'s
    table; returns the number of rows."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**dict(zip(fields, r, strict=True))) for r in rows])
        return len(rows)
    opts = model._meta
    by_attname = {f.attname: f for f in opts.concrete_fields}
    cols = [by_attname[name] for name in fields]
    json_at = [i for i, f in enumerate(cols) if isinstance(f, models.JSONField)]
    sql = (f'COPY "{opts.db_table}" ({", ".join(connection.ops.quote_name(str(f.column)) for f in cols)}) '
           "FROM STDIN")
    with connection.cursor() as cur:
        raw = cur.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(sql) as copy:
            for r in rows:
                if json_at:
                    r = list(r)
                    for i in json_at:
                        r[i] = json.dumps(r[i], ensure_ascii=False)
                copy.write_row(r)
    return len(rows)


def claim_update(model: type[models.Model], *, set_sql: str, set_params: Sequence[Any], where_sql: str,
                 where_params: Sequence[Any], order_by: str, limit: int) -> list[int]:
    """UPDATE … SET `set_sql` on at most `limit` rows matching `where_sql` (in `order_by` order),
    RETURNING their ids. Only the process whose UPDATE changed a row gets its id back, so only
    that one acts on it (the sweep's claims, the sender's leases).

    PostgreSQL: the inner SELECT locks its rows FOR UPDATE SKIP LOCKED, so concurrent claimers
    take disjoint sets without waiting on each other (waiting, with each holding rows the other
    wants, is a deadlock: seen with four concurrent sweeps), and a row it does lock is re-checked
    against the WHERE after a concurrent commit. ARRAY(...) runs that subquery once: a plain
    `id IN (subquery)` may be re-run by the planner and claim more than `limit` (seen: 1,200 rows
    for LIMIT 1). The outer WHERE repeats the condition for backends without row locks; SQLite
    serialises writers instead."""
    table = model._meta.db_table
    inner = f"SELECT id FROM {table} WHERE {where_sql} ORDER BY {order_by}, id LIMIT {int(limit)}"
    if connection.features.has_select_for_update_skip_locked:
        ids_sql = f"id = ANY(ARRAY({inner} FOR UPDATE SKIP LOCKED))"
    else:
        ids_sql = f"id IN ({inner})"
    sql = f"UPDATE {table} SET {set_sql} WHERE {where_sql} AND {ids_sql} RETURNING id"
    with connection.cursor() as cur:
        cur.execute(sql, [*set_params, *where_params, *where_params])
        return [row[0] for row in cur.fetchall()]
