"""E4-ISC: an ISC list processed within one working day of publication (boundary rule), and the
statement section listing the customer's spam cases of the month."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from abuse.services import (
    case_step_done,
    listing_record,
    listing_report,
    publication_process,
    publication_record,
)
from abuse.statement import spam_cases_section
from audit.services import audit_for
from settlement.statement_sections import sections_content
from sla.services import clocks_sweep
from slaportal.errors import ConflictError
from tests.abuse.conftest import MON_10, RESP_DUE
from tests.abuse.test_complaint_case import clocks

pytestmark = pytest.mark.django_db
S = timedelta(seconds=1)


@pytest.mark.parametrize(("offset", "state"), [(-S, "met"), (S, "breached")])
def test_an_isc_list_processed_within_one_working_day(engineer: Any, offset: timedelta, state: str) -> None:
    pub = publication_record(reference="ISC-2026-03", published_at=MON_10, url="https://isc.example/l",
                             actor=engineer, now=MON_10)
    assert clocks(pub)["E4-ISC"].due_at == RESP_DUE
    publication_process(publication_id=pub.pk, blocked="198.51.100.0/24 已加入拒收", actor=engineer,
                        now=RESP_DUE + offset)
    assert clocks(pub)["E4-ISC"].state == state
    with pytest.raises(ConflictError):
        publication_process(publication_id=pub.pk, blocked="x", actor=engineer, now=RESP_DUE + offset)


def test_an_unprocessed_list_is_escalated_by_the_sweep(engineer: Any, django_capture_on_commit_callbacks: Any) -> None:
    pub = publication_record(reference="ISC-1", published_at=MON_10, url="https://isc.example/1", actor=engineer,
                             now=MON_10)
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=RESP_DUE)
    assert clocks(pub)["E4-ISC"].state == "breached" and audit_for(pub).filter(action="escalated").exists()


def test_a_listing_is_recorded_and_reported_once(engineer: Any) -> None:
    listing = listing_record(organisation="Spamhaus", listed_item="203.0.113.9", listed_at=MON_10, actor=engineer,
                             now=MON_10)
    listing_report(listing_id=listing.pk, note="已通报互联网协会", actor=engineer, now=MON_10 + S)
    listing.refresh_from_db()
    assert listing.reported_at == MON_10 + S and listing.reported_by == engineer
    with pytest.raises(ConflictError):
        listing_report(listing_id=listing.pk, note="again", actor=engineer, now=MON_10 + 2 * S)


def test_the_statement_lists_the_months_cases_with_their_times_and_verdicts(
        staff_case: Any, engineer: Any, mail_service_a: Any) -> None:
    late, ok = staff_case(), staff_case()
    case_step_done(case_id=ok.pk, code="keep_evidence", actor=engineer, now=MON_10 + timedelta(hours=1))
    case_step_done(case_id=late.pk, code="keep_evidence", actor=engineer, now=RESP_DUE + S)
    from incidents.downtime import month_bounds

    start, end = month_bounds(2026, 3)
    with translation.override("en"):
        section = spam_cases_section(customer=mail_service_a.customer, start=start, end=end)
        all_sections = sections_content(customer=mail_service_a.customer, first=start.date(), start=start,
                                         end=end, services=[], now=MON_10)
    assert section is not None and section["breached"] == 1
    rows = {r[0]: r for r in section["rows"]}
    assert rows[late.number][4] == "late" and rows[ok.number][4] == "in time"
    assert rows[ok.number][3] == "2026-03-02 11:00"
    assert any(s["key"] == "abuse" for s in all_sections)
    april = month_bounds(2026, 4)
    assert spam_cases_section(customer=mail_service_a.customer, start=april[0], end=april[1]) is None
