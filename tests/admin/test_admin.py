"""The admin obeys the same rules as the pages and the API."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from customers.models import AuthorizedContact, Contract
from sla.models import Clock, WorkdayOverride
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.test", "pw-root-123")
    client.force_login(user)
    return client


def _contract_post(customer, number, signed):
    return {"customer": customer.pk, "number": number, "signed_at_0": signed, "signed_at_1": "10:00:00",
            "starts_on": signed, "term_months": 12, "monthly_fee": "3000.00",
            "installation_fee": "500.00", "exclude_unreported_outages": "on"}


def test_contract_added_in_admin_starts_no_clock_until_a_service_opens_its_order(
        admin_client, django_capture_on_commit_callbacks):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from orders.models import InstallationOrder

    customer = f.CustomerFactory()
    r = admin_client.post("/admin/customers/contract/add/", _contract_post(customer, "HT-ADM-1", "2026-02-13"))
    assert r.status_code == 302, r.content.decode()[:2000]
    contract = Contract.objects.get(number="HT-ADM-1")
    assert not Clock.objects.filter(policy__code="C3").exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post("/admin/customers/service/add/", {
            "contract": contract.pk, "kind": "colocation", "name": "托管 ADM-1", "active": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    order = InstallationOrder.objects.get(contract=contract)
    clock = Clock.objects.get(policy__code="C3", object_id=order.pk)
    # C3 runs on the order, not on the contract. The service is added today, long after the
    # first window after signing: a new installation, counted from when it was added.
    assert clock.contract == contract and clock.subject == order
    assert clock.started_at > datetime(2026, 2, 26, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_contract_in_an_unknown_year_is_recorded_in_admin(admin_client):
    customer = f.CustomerFactory()
    r = admin_client.post("/admin/customers/contract/add/", _contract_post(customer, "HT-ADM-2", "2031-03-03"))
    assert r.status_code == 302
    assert Contract.objects.filter(number="HT-ADM-2").exists()
    assert not Clock.objects.exists()


def test_negative_fee_is_a_form_error(admin_client):
    customer = f.CustomerFactory()
    data = _contract_post(customer, "HT-ADM-3", "2026-03-02") | {"monthly_fee": "-1.00"}
    r = admin_client.post("/admin/customers/contract/add/", data)
    assert r.status_code == 200 and not Contract.objects.filter(number="HT-ADM-3").exists()


def test_contact_secret_is_write_only_in_admin(admin_client):
    customer = f.CustomerFactory()
    data = {"customer": customer.pk, "name": "李工", "mobile": "13900000000", "email": "li@x.test",
            "channels": '["mobile", "email"]', "priority": 1, "language": "zh-hans",
            "mrtg_username": "li-mrtg", "mrtg_secret": "s3cret-value", "active": "on"}
    r = admin_client.post("/admin/customers/authorizedcontact/add/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    contact = AuthorizedContact.objects.get(name="李工")
    assert contact.check_mrtg("li-mrtg", "s3cret-value")
    page = admin_client.get(f"/admin/customers/authorizedcontact/{contact.pk}/change/").content.decode()
    assert "s3cret-value" not in page and contact.mrtg_secret_hash not in page
    # Saving without a secret keeps the stored one.
    r = admin_client.post(f"/admin/customers/authorizedcontact/{contact.pk}/change/",
                          data | {"mrtg_secret": "", "mobile": "13911111111"})
    assert r.status_code == 302
    contact = AuthorizedContact.objects.get(pk=contact.pk)
    assert contact.mobile == "13911111111" and contact.check_mrtg("li-mrtg", "s3cret-value")


def test_contact_without_channel_is_refused_in_admin(admin_client):
    customer = f.CustomerFactory()
    data = {"customer": customer.pk, "name": "无渠道", "channels": "[]", "priority": 1,
            "language": "zh-hans", "active": "on"}
    r = admin_client.post("/admin/customers/authorizedcontact/add/", data)
    assert r.status_code == 200
    assert not AuthorizedContact.objects.filter(name="无渠道").exists()


def test_clock_admin_is_read_only(admin_client):
    contract = f.ContractFactory()
    from sla.services import clock_start

    clock = clock_start(subject=contract, policy_code="C8", contract=contract)
    assert admin_client.get("/admin/sla/clock/").status_code == 200
    r = admin_client.post(f"/admin/sla/clock/{clock.pk}/change/", {"label": "changed"})
    assert r.status_code == 403
    assert admin_client.get("/admin/sla/clock/add/").status_code == 403


def test_workday_override_list_warns_about_missing_years(admin_client, settings):
    import time_machine

    with time_machine.travel("2026-11-23 10:00 +0800"):
        body = admin_client.get("/admin/sla/workdayoverride/").content.decode()
        assert 'class="messagelist"' in body and "2027" in body.split('class="messagelist"')[1][:600]
        WorkdayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
        body = admin_client.get("/admin/sla/workdayoverride/").content.decode()
        assert 'class="messagelist"' not in body


def test_every_admin_changelist_renders(admin_client):
    from django.contrib import admin

    for model in admin.site._registry:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url
