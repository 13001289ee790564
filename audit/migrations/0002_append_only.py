"""Audit rows are append-only in the database too, not just in the ORM.

On PostgreSQL a row trigger refuses every UPDATE and DELETE of audit_auditentry, whoever sends it
(raw SQL, a psql session, another application). TRUNCATE is deliberately left alone: it fires no
row triggers, and pytest-django (and `manage.py flush`) empty a PostgreSQL test database with it.
A future migration that must rewrite audit rows has to disable the trigger explicitly, in the same
transaction, and say why.

SQLite (the laptop default) gets no trigger: Django flushes SQLite with DELETE, so a DELETE
trigger would break `flush` and transactional tests; the ORM guards (AuditEntryQuerySet,
AuditEntry.save/delete) still apply there."""

from django.db import migrations

FUNCTION = "audit_auditentry_append_only"
TRIGGER = "audit_auditentry_append_only"

CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditentry is append-only: % of audit entry % refused', TG_OP, OLD.id
        USING HINT = 'Audit entries are evidence; record a correction as a new entry.';
END
$$;
DROP TRIGGER IF EXISTS {TRIGGER} ON audit_auditentry;
CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
"""

DROP = f"""
DROP TRIGGER IF EXISTS {TRIGGER} ON audit_auditentry;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def create_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the SQL holds a literal %


def drop_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="auditentry",
            options={"base_manager_name": "objects", "ordering": ["-at", "-id"],
                     "verbose_name": "audit entry", "verbose_name_plural": "audit entries"},
        ),
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
