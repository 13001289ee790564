"""Reads of the service desk, scoped by tenant in one place (customers.selectors): another
customer's request is simply not in the queryset (a 404). Internal notes are filtered here so no
page or endpoint can hand them to a customer by mistake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import NullIf
from django.utils import timezone

from customers.models import Contract, Service
from customers.selectors import scope_for_user, user_is_staff
from sla.models import Clock

from .choices import OPEN_STATES, EntryKind, InboundOutcome
from .models import InboundMail, RenewalReminder, RequestAttachment, RequestEntry, ServiceRequest


def request_list(
    *, user: Any, state: str | None = None, kind: str | None = None, customer_id: int | None = None,
    assignee_id: int | None = None, unassigned: bool = False, open_only: bool = False,
) -> models.QuerySet[ServiceRequest]:
    """Requests the user may see, each with its first-response and resolution clocks (due, state,
    paused at) as the clock engine keeps them on the request (sla.mirrors; None without a
    clock): columns of the row, a constant number of queries however long the list."""
    qs = scope_for_user(ServiceRequest.objects.all(), user).select_related(
        "customer", "service", "assignee", "contact").annotate(
        first_due_at=F("sla_first_due_at"), first_state=NullIf(F("sla_first_state"), Value("")),
        first_paused_at=F("sla_first_paused_at"),
        resolve_due_at=F("sla_resolve_due_at"), resolve_state=NullIf(F("sla_resolve_state"), Value("")),
        resolve_paused_at=F("sla_resolve_paused_at"),
    )
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if unassigned:
        qs = qs.filter(assignee__isnull=True)
    if open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    return qs.order_by("-opened_at", "-id")


def request_get(*, user: Any, pk: int) -> ServiceRequest:
    """One request or ServiceRequest.DoesNotExist (a 404), also for another customer's."""
    return request_list(user=user).get(pk=pk)


@dataclass(frozen=True)
class ClockView:
    """The few fields of a clock the time-left display needs (sla_ui.time_left)."""

    state: str
    due_at: datetime
    paused_at: datetime | None


def row_clocks(sr: Any) -> tuple[ClockView | None, ClockView | None]:
    """The annotated clocks of a row of request_list (None where there is none)."""
    out = []
    for prefix in ("first", "resolve"):
        due = getattr(sr, f"{prefix}_due_at", None)
        out.append(ClockView(state=getattr(sr, f"{prefix}_state"), due_at=due,
                             paused_at=getattr(sr, f"{prefix}_paused_at")) if due else None)
    return out[0], out[1]


def request_clocks(sr: ServiceRequest) -> list[Clock]:
    return list(Clock.objects.filter(content_type=ContentType.objects.get_for_model(ServiceRequest),
                                     object_id=sr.pk).select_related("policy").order_by("started_at", "id"))


def request_entries(*, user: Any, sr: ServiceRequest) -> models.QuerySet[RequestEntry]:
    """The thread as this user may read it: internal notes only for staff."""
    qs = sr.entries.select_related("author", "author_contact").prefetch_related("attachments")
    if not user_is_staff(user):
        qs = qs.filter(kind=EntryKind.REPLY)
    return qs.order_by("created_at", "id")


def request_attachments(*, user: Any, sr: ServiceRequest) -> models.QuerySet[RequestAttachment]:
    """The request's files; a note's files are staff-only like the note."""
    qs = sr.attachments.select_related("uploaded_by")
    if not user_is_staff(user):
        qs = qs.filter(internal=False)
    return qs.order_by("uploaded_at", "id")


def contracts_expiring(*, within_days: int = 90, today: date | None = None) -> list[dict[str, Any]]:
    """Contracts whose end (starts_on + term_months) falls in the next `within_days` days, soonest
    first, with the reminders already sent and the renewal request."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=within_days)
    rows: list[dict[str, Any]] = []
    for c in Contract.objects.filter(starts_on__lte=horizon).select_related("customer"):
        ends = c.ends_on
        if today <= ends <= horizon:
            rows.append({"contract": c, "ends_on": ends, "days_left": (ends - today).days})
    reminders: dict[int, list[RenewalReminder]] = {}
    for r in RenewalReminder.objects.filter(contract_id__in=[x["contract"].pk for x in rows]).select_related("request"):
        reminders.setdefault(r.contract_id, []).append(r)
    for x in rows:
        rs = [r for r in reminders.get(x["contract"].pk, []) if r.ends_on == x["ends_on"]]
        x["reminders"] = sorted(rs, key=lambda r: -r.threshold)
        x["request"] = next((r.request for r in x["reminders"] if r.request_id), None)
    return sorted(rows, key=lambda x: x["ends_on"])


def services_without_dedicated_staff() -> models.QuerySet[Service]:
    """Active services with no dedicated specialist or no dedicated engineer: the seed (000 §5,
    §6) guarantees both, so the manager's page warns about each."""
    return (Service.objects.filter(active=True).filter(Q(specialist__isnull=True) | Q(engineer__isnull=True))
            .select_related("customer", "specialist", "engineer").order_by("customer__name", "name"))


def inbound_unmatched() -> models.QuerySet[InboundMail]:
    """Mailbox messages left for staff: unknown senders and forged tokens."""
    return InboundMail.objects.filter(
        outcome__in=[InboundOutcome.UNMATCHED, InboundOutcome.FORGED]).order_by("-received_at", "-id")
