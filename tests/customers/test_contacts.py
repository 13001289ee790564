"""Authorized contacts: at least one notice channel, each chosen channel with an address, and the
MRTG verification secret stored hashed, write-only, checked in constant time."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from audit.services import audit_for
from customers.models import AuthorizedContact
from customers.services import contact_save
from slaportal.errors import DomainError
from tests import factories as f


@pytest.fixture
def customer(db):
    return f.CustomerFactory()


def test_contact_without_any_channel_is_invalid(customer):
    c = AuthorizedContact(customer=customer, name="张三", mobile="13800000000", channels=[])
    with pytest.raises(ValidationError) as e:
        c.full_clean()
    assert "channels" in e.value.message_dict


def test_contact_save_without_channel_refuses_and_saves_nothing(customer):
    with pytest.raises(DomainError) as e:
        contact_save(customer=customer, data={"name": "张三", "mobile": "13800000000", "channels": []})
    assert "channels" in e.value.field_errors
    assert AuthorizedContact.objects.count() == 0


@pytest.mark.parametrize("channel, field", [
    ("mobile", "mobile"), ("email", "email"), ("pager", "pager"), ("fax", "fax"),
    ("office_phone", "office_phone"),
])
def test_a_chosen_channel_needs_its_address(customer, channel, field):
    data = {"name": "李四", "channels": [channel]}
    with pytest.raises(DomainError) as e:
        contact_save(customer=customer, data=data)
    assert field in e.value.field_errors
    assert AuthorizedContact.objects.count() == 0


@pytest.mark.parametrize("channels, msg", [
    (["carrier-pigeon"], "Unknown"), (["mobile", "mobile"], "twice"), ("mobile", "at least one"),
])
def test_channel_list_is_validated(customer, channels, msg):
    with pytest.raises(DomainError) as e:
        with translation.override("en"):
            contact_save(customer=customer, data={"name": "王五", "mobile": "1", "channels": channels})
    assert msg in str(e.value.field_errors["channels"])


def test_valid_contact_keeps_channel_order_and_is_audited(customer, manager):
    c = contact_save(customer=customer, actor=manager, mrtg_secret="s3cret!",
                     data={"name": "赵六", "mobile": "13900000000", "email": "zl@c.test",
                           "channels": ["email", "mobile"], "mrtg_username": "zl-mrtg"})
    c.refresh_from_db()
    assert c.channels == ["email", "mobile"]
    assert c.address_for("email") == "zl@c.test"
    [a] = audit_for(c)
    assert a.action == "create" and a.actor == manager
    assert a.data["secret_changed"] is True
    assert "s3cret!" not in str(a.data)


def test_mrtg_secret_is_hashed_and_never_stored_raw(customer):
    c = contact_save(customer=customer, mrtg_secret="mrtg-pass-42",
                     data={"name": "钱七", "mobile": "1", "channels": ["mobile"], "mrtg_username": "qq"})
    c.refresh_from_db()
    assert c.has_mrtg_secret
    assert "mrtg-pass-42" not in c.mrtg_secret_hash
    assert c.mrtg_secret_hash.count("$") >= 2  # algorithm$…$hash
    # Nothing on the row holds the raw secret.
    row = AuthorizedContact.objects.filter(pk=c.pk).values().get()
    assert not any("mrtg-pass-42" in str(v) for v in row.values())


def test_check_mrtg_right_and_wrong(customer):
    c = contact_save(customer=customer, mrtg_secret="mrtg-pass-42",
                     data={"name": "孙八", "mobile": "1", "channels": ["mobile"], "mrtg_username": "sb"})
    c = AuthorizedContact.objects.get(pk=c.pk)
    assert c.check_mrtg("sb", "mrtg-pass-42")
    assert not c.check_mrtg("sb", "mrtg-pass-43")
    assert not c.check_mrtg("sb2", "mrtg-pass-42")
    assert not c.check_mrtg("", "")


def test_no_secret_set_never_matches(customer):
    c = contact_save(customer=customer, data={"name": "周九", "mobile": "1", "channels": ["mobile"],
                                               "mrtg_username": ""})
    assert not c.has_mrtg_secret
    assert not c.check_mrtg("", "")
    assert not c.check_mrtg("", "!")


def test_updating_without_secret_keeps_the_hash(customer):
    c = contact_save(customer=customer, mrtg_secret="first",
                     data={"name": "吴十", "mobile": "1", "channels": ["mobile"], "mrtg_username": "wu"})
    old = c.mrtg_secret_hash
    c = contact_save(customer=customer, contact=c, data={"mobile": "2"})
    c.refresh_from_db()
    assert c.mrtg_secret_hash == old and c.mobile == "2"
    assert c.check_mrtg("wu", "first")
    c = contact_save(customer=customer, contact=c, data={}, mrtg_secret="second")
    assert c.check_mrtg("wu", "second") and not c.check_mrtg("wu", "first")


def test_contact_of_another_customer_cannot_be_saved_under_this_one(customer):
    other = f.AuthorizedContactFactory()
    with pytest.raises(DomainError):
        contact_save(customer=customer, contact=other, data={"name": "x"})
    other.refresh_from_db()
    assert other.name != "x"
