from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, a working day.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


@pytest.fixture
def service_a(customer_a, specialist, engineer):
    contract = f.ContractFactory(customer=customer_a)
    return f.ServiceFactory(contract=contract, specialist=specialist, engineer=engineer)


@pytest.fixture
def contact_a(customer_a):
    return f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test")


@pytest.fixture
def sr(service_a, alice, contact_a):
    """An inquiry alice opened in the portal at T0."""
    from servicedesk.services import request_create

    return request_create(customer=service_a.customer, actor=alice, kind="inquiry", service=service_a,
                          title="带宽升级报价", description="请问升级到 100M 的价格？", now=T0)


def login(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def api(user) -> APIClient:  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c
