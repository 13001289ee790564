"""Seed 002 §7 locked accounts: their data is kept 90 days. The boundary is exact: a deletion at
locked_at + 90 × 24 h is accepted, one second earlier (and so 89 days) is refused with the date;
staff are warned before the date; a loss before the date (managers only) breaks E6-LOCKED."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from mailservice.models import LockedAccount
from mailservice.retention import locked_account_delete, locked_account_record
from settlement.models import Judgement
from settlement.services import month_close
from slaportal.errors import DomainError, ForbiddenError
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
LOCKED = datetime(2026, 1, 10, 15, 30, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _no_statements(settings):  # type: ignore[no-untyped-def]
    settings.SETTLEMENT_STATEMENTS = "off"


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    s = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")
    f.MailDomainFactory(service=s, domain="alpha.example.cn")
    return s


@pytest.fixture
def account(mail, engineer):  # type: ignore[no-untyped-def]
    return locked_account_record(actor=engineer, service=mail, address="Zhang.San@alpha.example.cn",
                                 kind="terminated", locked_at=LOCKED, reason="合同终止", now=LOCKED)


def test_the_date_it_may_be_deleted_is_90_days_after(account):  # type: ignore[no-untyped-def]
    assert account.address == "zhang.san@alpha.example.cn"
    assert account.retention_days == 90
    assert account.deletable_from == datetime(2026, 4, 10, 15, 30, tzinfo=TZ)


def test_a_deletion_89_days_after_termination_is_refused_and_90_accepted(account, engineer):  # type: ignore[no-untyped-def]
    for early in (LOCKED + timedelta(days=89), LOCKED + timedelta(days=90) - timedelta(seconds=1)):
        with pytest.raises(DomainError) as e:
            locked_account_delete(actor=engineer, account_id=account.pk, deleted_at=early, now=early)
        assert "2026-04-10 15:30:00" in str(e.value.message)
        account.refresh_from_db()
        assert account.deleted_at is None
    at = LOCKED + timedelta(days=90)
    done = locked_account_delete(actor=engineer, account_id=account.pk, deleted_at=at, now=at)
    assert done.deleted_at == at and not done.early


def test_the_api_refuses_an_early_deletion_with_400(account, engineer, alice):  # type: ignore[no-untyped-def]
    api = APIClient()
    api.force_authenticate(engineer)
    url = reverse("api-mail-locked-account-delete", args=[account.pk])
    r = api.post(url, {"deleted_at": (LOCKED + timedelta(days=89)).isoformat()}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "retention" and "deleted_at" in r.json()["errors"]
    api.force_authenticate(alice)
    assert api.post(url, {}, format="json").status_code == 403
    assert LockedAccount.objects.get().deleted_at is None


def test_an_early_loss_is_recorded_only_by_a_manager_and_breaks_the_month(account, mail, engineer, manager):  # type: ignore[no-untyped-def]
    lost = datetime(2026, 2, 20, 9, tzinfo=TZ)
    with pytest.raises(ForbiddenError):
        locked_account_delete(actor=engineer, account_id=account.pk, deleted_at=lost, note="磁盘损坏",
                              early_loss=True, now=lost)
    a = locked_account_delete(actor=manager, account_id=account.pk, deleted_at=lost, note="磁盘损坏",
                              early_loss=True, now=lost)
    assert a.early
    month_close(year=2026, month=2, now=datetime(2026, 3, 1, 1, tzinfo=TZ))
    j = Judgement.objects.get(service=mail, policy__code="E6-LOCKED", month="2026-02-01", current=True)
    assert j.verdict == "breached" and j.value == 40 and j.counted[0]["address"] == a.address


def test_staff_are_warned_before_the_date_and_customers_see_only_their_own(
        client, account, mail, engineer, alice, charlie):  # type: ignore[no-untyped-def]
    far = locked_account_record(actor=engineer, service=mail, address="li.si@alpha.example.cn", kind="locked",
                                locked_at=datetime.now(TZ) - timedelta(days=10), reason="欠费锁定")
    near = locked_account_record(actor=engineer, service=mail, address="wang.wu@alpha.example.cn", kind="locked",
                                 locked_at=datetime.now(TZ) - timedelta(days=85), reason="欠费锁定")
    client.force_login(engineer)
    r = client.get(reverse("mailservice:guarantee_queue"))
    rows = {a.address: a for a in r.context["accounts"]}
    assert rows[near.address].near and rows[near.address].days_left == 5
    assert not rows[far.address].near and rows[far.address].days_left == 80
    assert rows[account.address].may_delete
    assert r.context["near"] == 2
    api = APIClient()
    api.force_authenticate(alice)
    assert len(api.get(reverse("api-mail-locked-account-list")).json()) == 3
    api.force_authenticate(charlie)
    assert api.get(reverse("api-mail-locked-account-list")).json() == []
    assert api.get(reverse("api-mail-locked-account-detail", args=[near.pk])).status_code == 404
    client.force_login(charlie)
    assert client.get(reverse("mailservice:service_guarantee", args=[mail.pk])).status_code == 404


def test_staff_record_an_account_on_the_page(client, mail, engineer):  # type: ignore[no-untyped-def]
    client.force_login(engineer)
    r = client.post(reverse("mailservice:account_create", args=[mail.pk]), {
        "address": "zhao@alpha.example.cn", "kind": "locked", "reason": "违规发送垃圾邮件",
        "locked_at": (datetime.now(TZ) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302
    r = client.post(reverse("mailservice:account_delete", args=[LockedAccount.objects.get().pk]), {})
    assert r.status_code == 400
    assert LockedAccount.objects.get().deleted_at is None
