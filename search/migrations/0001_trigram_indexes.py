"""pg_trgm and one GIN trigram index per searched table (PostgreSQL only).

Each index is on UPPER() of the row's search document — every searched column, and each phone
column once more without separators — written exactly as search.selectors.document_sql renders
it, because that is the expression the search's `icontains` compares. So one index scan answers
a substring of three characters or more in any column: a fragment of a number, part of a phone
number, a Chinese word (pg_trgm makes trigrams of CJK characters under a UTF-8 ctype). A copy of
document_sql is frozen here, as migrations must not follow later code; tests/search check that
the planner still uses these indexes.

The tables belong to other apps; the indexes are owned here so the search can change what it
indexes without touching their migrations. On SQLite this migration does nothing (the search
is a plain scan there)."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# table: (searched columns, phone columns), in the order of search.selectors.KINDS.
DOCUMENTS: dict[str, tuple[list[str], list[str]]] = {
    "complaints_complaint": (["number", "title", "complainant_name", "complainant_email"], ["complainant_phone"]),
    "incidents_incident": (["number", "title"], []),
    "operations_operationrequest": (["number", "title"], []),
    "access_requests_visit": (["number", "contact_name", "contact_email"], ["contact_phone"]),
    "customers_customer": (["name", "code"], []),
    "customers_authorizedcontact": (["name", "email"], ["mobile", "office_phone", "pager", "fax"]),
}


def document_sql(columns: list[str], phone_columns: list[str]) -> str:
    pieces = [f"COALESCE({c}, '')" for c in columns + phone_columns]
    pieces += [f"REPLACE(REPLACE(COALESCE({c}, ''), '-', ''), ' ', '')" for c in phone_columns]
    return "(" + " || ' | ' || ".join(pieces) + ")"


def create_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, (columns, phones) in DOCUMENTS.items():
        doc = document_sql([f'"{c}"' for c in columns], [f'"{c}"' for c in phones])
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "search_{table}_trgm" ON "{table}" '
                              f"USING gin ((UPPER({doc}::text)) gin_trgm_ops)")
    # A booking is also found by a visitor's name (an EXISTS on the visitor table).
    schema_editor.execute('CREATE INDEX IF NOT EXISTS "search_access_requests_visitor_trgm" ON '
                          '"access_requests_visitor" USING gin ((UPPER("name"::text)) gin_trgm_ops)')


def drop_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in [*DOCUMENTS, "access_requests_visitor"]:
        schema_editor.execute(f'DROP INDEX IF EXISTS "search_{table}_trgm"')


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0001_initial"),
        ("incidents", "0003_facility_events"),
        ("operations", "0002_lock_from_any_mrtg_channel"),
        ("access_requests", "0001_initial"),
        ("customers", "0002_service_location_statement_optin"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
