from __future__ import annotations

from decimal import Decimal

import pytest

from tests import factories as f


@pytest.fixture
def service_a(customer_a, engineer):
    contract = f.ContractFactory(customer=customer_a, monthly_fee=Decimal("3100.00"))
    return f.ServiceFactory(contract=contract, engineer=engineer)


@pytest.fixture
def service_c(charlie):
    contract = f.ContractFactory(customer=charlie.customer_link.customer)
    return f.ServiceFactory(contract=contract)
