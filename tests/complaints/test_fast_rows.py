"""slaportal.api.FastRows gives what DRF's own Serializer.to_representation gives, row for row
(its fields are built once per class and reused across requests)."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from complaints.api.serializers import ComplaintDetailOutputSerializer, ComplaintOutputSerializer
from complaints.selectors import complaint_list
from complaints.services import complaint_accept, complaint_create

from .conftest import DAY1_10

pytestmark = pytest.mark.django_db


def _plain(serializer_class, row):
    return dict(serializers.ModelSerializer.to_representation(serializer_class(row), row))


@pytest.mark.parametrize("serializer_class", [ComplaintOutputSerializer, ComplaintDetailOutputSerializer])
def test_the_same_as_drf(serializer_class, complaint, specialist, manager):
    complaint_accept(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    complaint_create(customer=complaint.customer, actor=specialist, channel="email", subject="customer_service",
                     title="客服回复慢", description="无人回复。", complainant_name="李明",
                     complainant_email="li@alpha.test", received_at=DAY1_10, now=DAY1_10)
    rows = list(complaint_list(user=manager))
    assert len(rows) == 2 and {r.state for r in rows} == {"accepted", "received"}
    assert any(r.c8_due_at for r in rows) and any(r.specialist_id for r in rows)
    for _ in range(2):  # the second time with the fields the first time built
        for row in rows:
            assert dict(serializer_class(row).data) == _plain(serializer_class, row)
    assert [dict(r) for r in serializer_class(rows, many=True).data] == [_plain(serializer_class, r) for r in rows]
