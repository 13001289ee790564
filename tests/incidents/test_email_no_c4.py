"""The emergency notice (C4) and its one day's rent deduction are the hosting agreement's
(seed 000 第四条); the e-mail guarantee has no such promise. The policy rows say which kinds of
service each promise is made for, and an e-mail outage starts no C4 clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from credits.models import Credit
from incidents.choices import IncidentSource, IncidentState
from incidents.services import emergency_declare
from sla.models import Clock, SlaPolicy
from sla.services import clocks_sweep
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=TZ)


def _declare(service):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        return emergency_declare(service=service, source=IncidentSource.MONITOR, title="不可达",
                                 outage_started_at=T0 - timedelta(minutes=5))


@pytest.mark.django_db
def test_an_email_service_gets_no_c4_clock_and_no_rent_deduction(customer_a, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    f.AuthorizedContactFactory(customer=customer_a, office_phone="010-1", channels=["office_phone"])
    contract = f.ContractFactory(customer=customer_a)
    mail = f.ServiceFactory(contract=contract, kind="email", name="企业邮箱")
    host = f.ServiceFactory(contract=contract, kind="colocation", name="托管")
    d_mail, d_host = _declare(mail), _declare(host)
    assert d_mail.clock is None and d_mail.incident.state == IncidentState.DECLARED
    assert d_mail.outage.started_at == T0 - timedelta(minutes=5)  # the outage still counts for E1
    assert d_host.clock is not None and d_host.clock.policy.code == "C4"
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        clocks_sweep()
    assert not Clock.objects.filter(object_id=d_mail.incident.pk, policy__code="C4").exists()
    # The hosting service's notice was missed: its day's rent is proposed; nothing for e-mail.
    [credit] = Credit.objects.filter(policy__code="C4")
    assert credit.evidence == d_host.clock


@pytest.mark.django_db
def test_the_policy_row_decides_which_services_a_promise_is_made_for(customer_a):  # type: ignore[no-untyped-def]
    f.AuthorizedContactFactory(customer=customer_a, office_phone="010-1", channels=["office_phone"])
    c4 = SlaPolicy.objects.get(code="C4")
    assert c4.service_kinds == ["rental", "colocation", "rack"]
    assert SlaPolicy.objects.get(code="E1").service_kinds == ["email"]
    c4.service_kinds = []  # a provider that promises the notice for e-mail too
    c4.save()
    mail = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email")
    assert _declare(mail).clock is not None


@pytest.mark.django_db
def test_a_policy_with_an_unknown_service_kind_is_refused(client, manager):  # type: ignore[no-untyped-def]
    client.force_login(manager)
    c4 = SlaPolicy.objects.get(code="C4")
    r = client.patch(f"/api/policies/{c4.pk}/", {"service_kinds": ["spaceship"]}, content_type="application/json")
    assert r.status_code == 400 and any(k.startswith("service_kinds") for k in r.json()["errors"])
    r = client.patch(f"/api/policies/{c4.pk}/", {"service_kinds": ["rental"]}, content_type="application/json")
    assert r.status_code == 200 and r.json()["service_kinds"] == ["rental"]
