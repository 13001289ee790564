"""The billing export of a month as rows: one writer for the page's CSV and the API's, so both
say the same thing. Headers in the user's language (Chinese by default), times in
Asia/Shanghai, a reversal's amount or days negative (billing subtracts it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.people import person_name

from .models import Credit

COLUMNS = (
    gettext_noop("ID"), gettext_noop("Customer"), gettext_noop("Contract"), gettext_noop("Policy"),
    gettext_noop("Promise name"), gettext_noop("Remedy"), gettext_noop("amount (CNY)"), gettext_noop("Days"),
    gettext_noop("Period"), gettext_noop("State"), gettext_noop("Proposed at"), gettext_noop("proposed by"),
    gettext_noop("Decided at"), gettext_noop("decided by"), gettext_noop("Applied at"),
    gettext_noop("Evidence"), gettext_noop("Reverses credit"), gettext_noop("Note"),
)

FMT = "%Y-%m-%d %H:%M:%S"


def local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime(FMT) if value else ""


def evidence_text(credit: Credit) -> str:
    """What the credit rests on, in words (a clock, an incident ...); empty without evidence."""
    evidence = credit.evidence
    return str(evidence) if evidence is not None else ""


def _user(user: Any) -> str:
    return person_name(user)


def row(credit: Credit) -> list[Any]:
    signed_amount, signed_days = credit.signed_amount, credit.signed_days
    return [
        credit.pk, credit.customer.name, credit.contract.number, credit.policy.code, credit.policy.name,
        credit.get_kind_display(), "" if signed_amount is None else str(signed_amount),
        "" if signed_days is None else signed_days, credit.period.isoformat(), credit.get_state_display(),
        local(credit.proposed_at), _user(credit.proposed_by), local(credit.decided_at),
        _user(credit.decided_by), local(credit.applied_at), evidence_text(credit),
        credit.reverses_id or "", credit.note,
    ]


def export_csv(credits: Iterable[Credit]) -> str:
    """The rows as CSV text with a BOM (so Excel reads the Chinese)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([_(label) for label in COLUMNS])
    for credit in credits:
        w.writerow(row(credit))
    return "\ufeff" + out.getvalue()
