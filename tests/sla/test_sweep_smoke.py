from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Notification
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_start, clocks_sweep
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_sweep_breaches_once_and_notifies_once(manager):
    contract = f.ContractFactory()
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, now=t0)
    assert clock.due_at == t0 + timedelta(hours=24)
    r1 = clocks_sweep(now=t0 + timedelta(hours=24) - timedelta(seconds=1))
    assert r1.breached == [] and r1.warned == [clock.pk]
    r2 = clocks_sweep(now=t0 + timedelta(hours=24))
    assert r2.breached == [clock.pk]
    r3 = clocks_sweep(now=t0 + timedelta(hours=25))
    assert r3.breached == []
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED
    assert Notification.objects.filter(kind="clock_breach", recipient=manager).count() == 1
    assert Clock.objects.count() == 1
