"""Found in review: a written authorization dated before the request was made."""

from datetime import date, timedelta

import pytest

from operations import services
from operations.models import Authorization
from slaportal.errors import DomainError
from tests import factories as f

from .conftest import PDF, PNG, T0, upload

pytestmark = pytest.mark.django_db


def _written(op, actor, contact, data=PDF, name="授权书.pdf", **kw):
    return services.authorization_upload_written(operation_id=op.pk, f=upload(data, name),
                                                 contact=contact, actor=actor,
                                                 now=T0 + timedelta(minutes=1), **kw)


def test_written_authorization_from_a_former_contact_is_refused_whatever_its_date(operation, engineer,
                                                                                    customer_a):
    # A former contact (valid until 1 January) cannot authorize work requested on 2 March by a
    # document dated back to when they were still a contact.
    former = f.AuthorizedContactFactory(customer=customer_a, name="前任经理", valid_until=date(2026, 1, 1))
    with pytest.raises(DomainError) as e:
        _written(operation, engineer, former, signed_on=date(2025, 12, 1))
    assert "contact" in e.value.field_errors
    assert not Authorization.objects.exists()
    operation.refresh_from_db()
    assert operation.state == "requested"


def test_written_authorization_signed_on_the_request_day_is_accepted(operation, engineer, contact_a):
    auth = _written(operation, engineer, contact_a, signed_on=T0.date())
    assert auth.status == "accepted"


def test_a_letter_signed_the_day_before_the_request_was_logged_is_accepted(operation, engineer, contact_a):
    # The customer signs on Monday, the engineer logs the request on Tuesday: still authorized.
    auth = _written(operation, engineer, contact_a, signed_on=T0.date() - timedelta(days=1))
    assert auth.status == "accepted"


@pytest.mark.parametrize(("data", "name", "mime", "ext"), [
    (PNG, "授权书.pdf", "image/png", "png"), (PDF, "scan.png", "application/pdf", "pdf")])
def test_type_and_stored_extension_come_from_the_bytes(operation, alice, contact_a, data, name, mime, ext):
    auth = _written(operation, alice, contact_a, data, name)
    assert auth.content_type == mime and auth.stored_name.endswith(f".{ext}")


def test_empty_file_refused_and_size_limit_is_inclusive(operation, alice, contact_a, settings):
    with pytest.raises(DomainError):
        _written(operation, alice, contact_a, b"", "empty.pdf")
    settings.MAX_UPLOAD_BYTES = len(PDF)
    assert _written(operation, alice, contact_a).size == len(PDF)
    settings.MAX_UPLOAD_BYTES = len(PDF) - 1
    with pytest.raises(DomainError) as e:
        _written(operation, alice, contact_a)
    assert e.value.code == "too_large"
