"""Reads of the complaint workflow, scoped by tenant in one place (customers.selectors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import NullIf
from django.utils import timezone

from customers.selectors import scope_for_user
from sla.mirrors import overdue_q
from sla.models import Clock

from .models import Complaint

C8 = "C8"


def complaint_filter_overdue(qs: models.QuerySet[Complaint], *, overdue: bool,
                             now: datetime | None = None) -> models.QuerySet[Complaint]:
    """Keep the complaints whose first written report is late (overdue=True) or those that are
    not (False): C8 breached and not yet fulfilled, or still running at or past its deadline (the
    sweep has not got to it yet). Read from the fields the clock engine keeps on the complaint
    (sla.mirrors), under a partial index."""
    late = overdue_q(prefix="sla_", now=now or timezone.now())
    return qs.filter(late) if overdue else qs.exclude(late)


def complaint_list(
    *, user: Any, state: str | None = None, customer_id: int | None = None, subject: str | None = None,
    overdue: bool | None = None, now: datetime | None = None,
) -> models.QuerySet[Complaint]:
    """Complaints the user may see with what a list shows of them, in one query: the C8 deadline
    and state are columns of the complaint (kept by the clock engine, sla.mirrors), exposed as
    c8_due_at and c8_state; the related rows the lists name are joined."""
    qs = scope_for_user(Complaint.objects.all(), user).select_related(
        "customer", "specialist", "complainant_contact").annotate(
        c8_due_at=F("sla_due_at"), c8_state=NullIf(F("sla_state"), Value("")))
    if state:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if subject:
        qs = qs.filter(subject=subject)
    if overdue is not None:
        qs = complaint_filter_overdue(qs, overdue=overdue, now=now)
    return qs.order_by("-received_at", "-id")


def complaint_get(*, user: Any, pk: int) -> Complaint:
    """One complaint or Complaint.DoesNotExist (a 404) — also for another customer's complaint."""
    return complaint_list(user=user).get(pk=pk)


def complaint_c8_clock(complaint: Complaint) -> Clock | None:
    """The complaint's latest C8 clock (the 24-hour first-report promise), if it was accepted."""
    return (Clock.objects.filter(content_type=ContentType.objects.get_for_model(Complaint),
                                 object_id=complaint.pk, policy__code=C8)
            .select_related("policy").order_by("-started_at").first())


def complaint_attachments(complaint: Complaint) -> models.QuerySet[Any]:
    return complaint.attachments.select_related("uploaded_by").order_by("uploaded_at", "id")
