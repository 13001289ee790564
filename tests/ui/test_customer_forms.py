"""The authorized-contact form and the contract form: bad input is a form error and nothing is
saved; the MRTG secret is write-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import AuthorizedContact, Contract, CustomerUser
from sla.models import Clock
from tests import factories as f
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db


def contact_post(**over: str) -> dict[str, str]:
    data = {"name": "王经理", "office_phone": "", "mobile": "13900000000", "pager": "", "fax": "",
            "email": "wang@alpha.test", "priority": "1", "language": "zh-hans",
            "mrtg_username": "alpha-mrtg", "mrtg_secret": "s3cret-Value-42", "valid_from": "",
            "valid_until": "", "active": "on", "channel_1": "email", "channel_2": "mobile",
            "channel_3": "", "channel_4": "", "channel_5": ""}
    data.update(over)
    return data


def test_contact_without_any_channel_is_a_form_error_and_nothing_saved(customer_a, specialist):  # type: ignore[no-untyped-def]
    c = login(specialist)
    r = c.post(reverse("customers:contact_create", args=[customer_a.pk]),
               contact_post(channel_1="", channel_2=""))
    assert r.status_code == 200
    assert "请至少选择一种紧急情况通知方式。" in r.content.decode()
    assert r.context["form"].errors["channel_1"]
    assert not AuthorizedContact.objects.exists()


def test_channel_without_address_is_an_error_on_that_address(customer_a, specialist):  # type: ignore[no-untyped-def]
    r = login(specialist).post(reverse("customers:contact_create", args=[customer_a.pk]),
                               contact_post(channel_1="fax"))
    assert "fax" in r.context["form"].errors
    assert not AuthorizedContact.objects.exists()


def test_contact_saved_in_preference_order_and_secret_never_shown(customer_a, specialist):  # type: ignore[no-untyped-def]
    c = login(specialist)
    r = c.post(reverse("customers:contact_create", args=[customer_a.pk]),
               contact_post(channel_1="mobile", channel_2="", channel_3="email"))
    assert r.status_code == 302
    contact = AuthorizedContact.objects.get()
    assert contact.channels == ["mobile", "email"]
    assert contact.check_mrtg("alpha-mrtg", "s3cret-Value-42")
    for url in (reverse("customers:detail", args=[customer_a.pk]),
                reverse("customers:contact_edit", args=[customer_a.pk, contact.pk])):
        html = c.get(url).content.decode()
        assert "s3cret-Value-42" not in html
        assert contact.mrtg_secret_hash not in html
        assert contact.mrtg_secret_hash.split("$")[-1] not in html
    detail = c.get(reverse("customers:detail", args=[customer_a.pk])).content.decode()
    assert "已设置密码" in detail


def test_secret_not_echoed_after_a_form_error(customer_a, specialist):  # type: ignore[no-untyped-def]
    r = login(specialist).post(reverse("customers:contact_create", args=[customer_a.pk]),
                               contact_post(channel_1="", channel_2=""))
    assert "s3cret-Value-42" not in r.content.decode()


def test_edit_keeps_secret_when_left_blank(customer_a, specialist):  # type: ignore[no-untyped-def]
    contact = f.AuthorizedContactFactory(customer=customer_a, secret="old-secret-1")
    old_hash = contact.mrtg_secret_hash
    c = login(specialist)
    page = c.get(reverse("customers:contact_edit", args=[customer_a.pk, contact.pk])).content.decode()
    assert "已设置密码" in page and "old-secret-1" not in page
    r = c.post(reverse("customers:contact_edit", args=[customer_a.pk, contact.pk]),
               contact_post(name="新名字", mrtg_secret="", mrtg_username="mrtg-user"))
    assert r.status_code == 302
    contact.refresh_from_db()
    assert contact.name == "新名字" and contact.mrtg_secret_hash == old_hash


def test_customer_admin_manages_own_contacts_only(customer_a, alice, charlie):  # type: ignore[no-untyped-def]
    CustomerUser.objects.filter(user=alice).update(is_customer_admin=True)
    alice.refresh_from_db()
    r = login(alice).post(reverse("customers:contact_create", args=[customer_a.pk]), contact_post())
    assert r.status_code == 302
    assert AuthorizedContact.objects.get().customer == customer_a
    contact = AuthorizedContact.objects.get()
    CustomerUser.objects.filter(user=charlie).update(is_customer_admin=True)
    c = login(charlie)
    assert c.get(reverse("customers:contact_edit", args=[customer_a.pk, contact.pk])).status_code == 404
    own = charlie.customer_link.customer
    assert c.get(reverse("customers:contact_edit", args=[own.pk, contact.pk])).status_code == 404


def contract_post(**over: str) -> dict[str, str]:
    data = {"number": "HT-2026-0900", "signed_at": "2026-03-02T10:00", "starts_on": "",
            "term_months": "12", "monthly_fee": "3100.00", "installation_fee": "500.00",
            "exclude_unreported_outages": "on"}
    data.update(over)
    return data


def test_contract_with_negative_fee_is_a_form_error(customer_a, manager):  # type: ignore[no-untyped-def]
    r = login(manager).post(reverse("customers:contract_create", args=[customer_a.pk]),
                            contract_post(monthly_fee="-1.00"))
    assert r.status_code == 200
    assert r.context["form"].errors["monthly_fee"]
    assert not Contract.objects.exists() and not Clock.objects.exists()


def test_contract_signed_in_an_unknown_calendar_year_is_recorded(customer_a, manager):  # type: ignore[no-untyped-def]
    # Nothing is computed from the signing date when the contract is recorded: the installation
    # orders of its services carry the deadline (pending while the year is unknown).
    r = login(manager).post(reverse("customers:contract_create", args=[customer_a.pk]),
                            contract_post(signed_at="2031-03-03T10:00"))
    assert r.status_code == 302
    assert Contract.objects.get().signed_at.year == 2031 and not Clock.objects.exists()


def test_contract_created_starts_no_clock_its_services_orders_do(customer_a, manager,  # type: ignore[no-untyped-def]
                                                                 django_capture_on_commit_callbacks):
    from customers.services import service_create
    from orders.models import InstallationOrder

    r = login(manager).post(reverse("customers:contract_create", args=[customer_a.pk]), contract_post())
    assert r.status_code == 302
    contract = Contract.objects.get()
    assert not Clock.objects.filter(contract=contract).exists()
    with django_capture_on_commit_callbacks(execute=True):
        service_create(contract=contract, kind="rack", name="机柜 UI-1", actor=manager,
                       now=contract.signed_at)
    clock = Clock.objects.get(contract=contract)
    assert clock.policy.code == "C3" and clock.subject == InstallationOrder.objects.get(contract=contract)
    # 2026-03-02 is a Monday: the 3rd working day after it is Thursday 03-05, due at 24:00.
    assert clock.due_at.isoformat().startswith("2026-03-05T16:00:00")  # 24:00 Shanghai in UTC
