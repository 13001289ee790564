"""Every write of the anti-spam workflow (seed 002 §4, promise E4), split by sub-domain with one
public surface: cases and their steps, the E4 breaches and the fee waiver, the abuse desk, the
ISC list publications and blacklist listings. Each service checks the role, locks the row,
audits in the same transaction and moves clocks only through sla.services."""

from .breaches import (
    abuse_clocks_breached,
    case_breach_record,
    case_breach_withdrawn,
    waiver_dedupe_key,
)
from .cases import (
    ACTOR_ROLES,
    case_close,
    case_complaint_withdrawn,
    case_evidence_add,
    case_open_by_staff,
    case_open_from_complaint,
    case_open_from_mail,
    case_reopen,
    case_set_kind,
    case_step_done,
    cases_reconcile,
)
from .desk import desk_save
from .isc import listing_record, listing_report, publication_process, publication_record

__all__ = [
    "ACTOR_ROLES", "abuse_clocks_breached", "case_breach_record", "case_breach_withdrawn",
    "case_close", "case_complaint_withdrawn", "case_evidence_add", "case_open_by_staff",
    "case_open_from_complaint", "case_open_from_mail", "case_reopen", "case_set_kind",
    "case_step_done", "cases_reconcile", "desk_save", "listing_record", "listing_report",
    "publication_process", "publication_record", "waiver_dedupe_key",
]
