"""Shared fixtures: alice (customer A's user), charlie (another customer: always a 404), and one
staff user per role.

A test that needs real commits (threads, a worker, on_commit) uses
`@pytest.mark.django_db(transaction=True, serialized_rollback=True)`: the flush after a plain
transactional test re-creates the role groups with new ids, and the next serialized test's restore
of the migrated data then collides with them.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests import factories as f


def pytest_report_header(config):  # type: ignore[no-untyped-def]
    db = settings.DATABASES["default"]
    where = db["ENGINE"].rsplit(".", 1)[-1]
    if where != "sqlite3":
        where += f" {db.get('HOST')}:{db.get('PORT')}/{db.get('NAME')}"
    return [f"slaportal: database={where} broker={settings.CELERY_BROKER_URL}"]


@pytest.fixture(autouse=True)
def _lists_forget_their_size():  # type: ignore[no-untyped-def]
    """slaportal.paging remembers which lists are large and sla.calendars which years are
    missing (per process, for a minute): each test starts with a database of its own, so with
    nothing remembered."""
    from sla import calendars
    from slaportal import paging

    paging._LARGE.clear()
    calendars._MISSING.clear()
    yield
    paging._LARGE.clear()
    calendars._MISSING.clear()


@pytest.fixture
def alice(db):
    """A customer user of customer A."""
    return f.CustomerUserFactory(customer__name="甲公司 Alpha").user


@pytest.fixture
def customer_a(alice):
    return alice.customer_link.customer


@pytest.fixture
def charlie(db):
    """A customer user of another customer: must always get 404 on A's objects."""
    return f.CustomerUserFactory(customer__name="丙公司 Charlie").user


@pytest.fixture
def manager(db):
    return f.StaffFactory(role="manager", username="mia")


@pytest.fixture
def specialist(db):
    return f.StaffFactory(role="specialist", username="sam")


@pytest.fixture
def engineer(db):
    return f.StaffFactory(role="engineer", username="eve")


@pytest.fixture
def dc_staff(db):
    return f.StaffFactory(role="dc_staff", username="dan")
