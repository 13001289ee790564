from __future__ import annotations

from collections.abc import Iterator

import pytest

from .snmpagent import SnmpAgent


@pytest.fixture
def agent() -> Iterator[SnmpAgent]:
    """A real snmpd on a high port of 127.0.0.1, counters from a file the test writes."""
    a = SnmpAgent()
    a.start()
    try:
        yield a
    finally:
        a.close()
