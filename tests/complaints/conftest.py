from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
DAY1_10 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


@pytest.fixture
def service_a(customer_a, specialist):
    contract = f.ContractFactory(customer=customer_a)
    return f.ServiceFactory(contract=contract, specialist=specialist)


@pytest.fixture
def contact_a(customer_a):
    return f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test")


@pytest.fixture
def complaint(service_a, contact_a, specialist):
    from complaints.services import complaint_create

    return complaint_create(
        customer=contact_a.customer, actor=specialist, channel="complaint_line", subject="network",
        title="机房网络时断时续", description="3月1日晚网络多次中断。", complainant_contact=contact_a,
        received_at=DAY1_10, now=DAY1_10)
