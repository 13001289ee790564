"""Contract renewals (缴费和续费): 60 and 30 days before a contract ends (starts_on + term_months),
its specialist and the customer's contacts are reminded and a renewal request is opened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Language
from customers.models import AuthorizedContact, Contract
from notifications.services import Message, notifications_enqueue

from ..choices import OPEN_STATES, RENEWAL_THRESHOLDS, RequestChannel, RequestKind
from ..models import RenewalReminder, ServiceRequest
from .requests import request_create


def renewal_threshold(days_left: int) -> int | None:
    """The reminder due when `days_left` days remain: the smallest threshold not below it (45
    days left: the 60-day one; 25: the 30-day one), so a missed day is caught up the next day
    and a contract entered late gets only the nearer reminder, not both at once."""
    if days_left <= 0:
        return None
    due = [t for t in RENEWAL_THRESHOLDS if t >= days_left]
    return min(due) if due else None


def renewal_reminders_run(*, now: datetime | None = None) -> list[RenewalReminder]:
    """The daily task: for each contract whose end is within the largest threshold, write the
    reminder of its threshold once (the unique constraint on contract, end and threshold makes a
    second run that day, or a concurrent one, a no-op), open the renewal request (or reuse one
    still open for that end) and queue the reminders."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    horizon = today + timedelta(days=max(RENEWAL_THRESHOLDS))
    # starts_on + term_months is computed in Python (Contract.ends_on): a contract cannot end
    # before it starts, so only those started up to the horizon are candidates.
    made = []
    for contract in Contract.objects.filter(starts_on__lte=horizon).select_related("customer"):
        ends = contract.ends_on
        threshold = renewal_threshold((ends - today).days)
        if threshold is None:
            continue
        reminder = _remind(contract=contract, ends_on=ends, threshold=threshold, now=now)
        if reminder is not None:
            made.append(reminder)
    return made


def _remind(*, contract: Contract, ends_on: Any, threshold: int, now: datetime) -> RenewalReminder | None:
    try:
        with transaction.atomic():
            reminder = RenewalReminder.objects.create(contract=contract, ends_on=ends_on,
                                                      threshold=threshold, created_at=now)
            sr = (ServiceRequest.objects.filter(renewal_reminders__contract=contract,
                                                renewal_reminders__ends_on=ends_on,
                                                state__in=OPEN_STATES).first())
            if sr is None:
                service = contract.services.filter(active=True).order_by("id").first()
                with translation.override("zh-hans"):
                    sr = request_create(
                        customer=contract.customer, actor=None, kind=RequestKind.PAYMENT_RENEWAL,
                        channel=RequestChannel.SYSTEM, service=service, contract=contract,
                        title=_("Renewal of contract %(number)s (ends %(date)s)")
                        % {"number": contract.number, "date": ends_on.isoformat()},
                        description=_("Contract %(number)s ends on %(date)s. Please confirm the "
                                      "renewal and the payment.") % {"number": contract.number,
                                                                      "date": ends_on.isoformat()},
                        now=now)
            reminder.request = sr
            reminder.save(update_fields=["request"])
            audit_record(obj=contract, action="renewal_reminder", now=now,
                         data={"threshold": threshold, "ends_on": ends_on.isoformat(), "request": sr.pk})
            _notify(contract=contract, reminder=reminder, sr=sr, now=now)
    except IntegrityError:
        return None  # already reminded for this end and threshold (another run got there first)
    return reminder


def _notify(*, contract: Contract, reminder: RenewalReminder, sr: ServiceRequest, now: datetime) -> None:
    fmt = {"number": contract.number, "date": reminder.ends_on.isoformat(), "days": reminder.threshold,
           "request": sr.number}
    messages = []
    key = f"renewal:{contract.pk}:{reminder.ends_on.isoformat()}:{reminder.threshold}"
    staff: dict[int | None, Any] = {}
    for svc in contract.services.select_related("specialist").filter(specialist__isnull=False):
        staff[svc.specialist_id] = svc.specialist
    if sr.assignee_id:
        staff.setdefault(sr.assignee_id, sr.assignee)
    with translation.override("zh-hans"):
        for uid, u in staff.items():
            if not u.email:
                continue
            messages.append(Message(
                channel="email", address=u.email, recipient_id=uid, kind="renewal_reminder",
                related=sr, idempotency_key=f"{key}:user:{uid}",
                subject=_("Contract %(number)s ends in %(days)s days") % fmt,
                body=_("Contract %(number)s ends on %(date)s. Renewal request %(request)s is open.") % fmt))
    for c in AuthorizedContact.objects.filter(customer_id=contract.customer_id, active=True).exclude(email=""):
        with translation.override("en" if c.language == Language.EN else "zh-hans"):
            messages.append(Message(
                channel="email", address=c.email, kind="renewal_reminder", related=sr,
                idempotency_key=f"{key}:contact:{c.pk}",
                subject=_("Your contract %(number)s ends on %(date)s") % fmt,
                body=_("Your contract %(number)s ends on %(date)s. Your service specialist will "
                       "contact you about renewal and payment (request %(request)s).") % fmt))
    notifications_enqueue(messages=messages, now=now)
