"""Audit rows are evidence: once written they are never changed or deleted, neither through the
ORM nor with raw SQL (a trigger on PostgreSQL), while the test suite can still empty the table
between transactional tests (TRUNCATE)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEntry
from audit.services import audit_record
from customers.models import Customer
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")


def _entry() -> AuditEntry:
    return audit_record(obj=f.CustomerFactory(), action="change", reason="original",
                        data={"changed": {"name": ["a", "b"]}}, now=datetime(2026, 3, 2, tzinfo=TZ))


def _unchanged(entry: AuditEntry) -> None:
    row = AuditEntry.objects.get(pk=entry.pk)
    assert (row.action, row.reason, row.data) == ("change", "original", {"changed": {"name": ["a", "b"]}})


@pytest.mark.django_db
@pytest.mark.parametrize("write", [
    lambda qs: qs.update(reason="rewritten"),
    lambda qs: qs.delete(),
    lambda qs: qs.filter(action="change").delete(),
    lambda qs: AuditEntry.objects.bulk_update(list(qs), ["reason"]),
    lambda qs: AuditEntry.objects.update(reason="rewritten"),
    lambda qs: AuditEntry.objects.update_or_create(pk=qs.get().pk, defaults={"reason": "x"}),
], ids=["update", "delete", "filtered-delete", "bulk_update", "manager-update", "update_or_create"])
def test_orm_bulk_writes_are_refused(write):  # type: ignore[no-untyped-def]
    entry = _entry()
    with pytest.raises(ValueError, match="append-only"):
        write(AuditEntry.objects.filter(pk=entry.pk))
    _unchanged(entry)


@pytest.mark.django_db
def test_instance_save_and_delete_are_refused():
    entry = _entry()
    entry.reason = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    _unchanged(entry)


@pytest.mark.django_db
def test_the_subject_can_go_but_its_audit_rows_stay():
    customer = f.CustomerFactory()
    audit_record(obj=customer, action="create")
    pk = customer.pk
    customer.delete()
    assert AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Customer),
                                     object_id=pk).count() == 1


@pytest.mark.django_db
def test_an_actor_with_audit_rows_cannot_be_deleted():
    from django.db.models import ProtectedError

    user = f.UserFactory()
    audit_record(obj=f.CustomerFactory(), action="create", actor=user)
    with pytest.raises(ProtectedError):
        user.delete()


@pytest.mark.django_db
@pytest.mark.parametrize("sql", [
    "UPDATE audit_auditentry SET reason = 'rewritten' WHERE id = %s",
    "UPDATE audit_auditentry SET data = '{}'::jsonb, actor_id = NULL WHERE id = %s",
    "DELETE FROM audit_auditentry WHERE id = %s",
    "DELETE FROM audit_auditentry WHERE id >= %s",
])
def test_raw_sql_update_and_delete_fail_in_the_database(sql):  # type: ignore[no-untyped-def]
    # The suite runs on PostgreSQL (make test, CI); this is the database's own guarantee.
    assert connection.vendor == "postgresql", "the append-only trigger exists on PostgreSQL only"
    entry = _entry()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [entry.pk])
    _unchanged(entry)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_committed_rows_are_refused_and_truncate_still_empties_the_table():
    """A real commit, outside any test transaction: the trigger refuses the UPDATE and DELETE of
    committed rows; afterwards pytest-django flushes the table with TRUNCATE, which must work."""
    assert connection.vendor == "postgresql"
    entry = _entry()
    for sql in ("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s",
                "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql, [entry.pk])
    _unchanged(entry)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_flush_after_a_transactional_test_emptied_the_table():
    # Runs after the test above (file order): its committed row was removed by the flush.
    assert not AuditEntry.objects.filter(reason="original").exists()
