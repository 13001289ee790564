"""Every write of the e-mail measurement app that staff make by hand: mail platforms, the
customers' mail domains, the platforms' faults and adjustments (E3) and the monthly billing
figures (E3 billing error rate).

Each service checks the role, validates (a refusal is a DomainError with field errors and writes
nothing), saves in one transaction with its audit row, and after the commit re-judges every
closed month the change reaches for the e-mail services it concerns (a late change is an
adjustment of the month close, never a silent edit)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audited_delete, audited_save
from customers.choices import Role, ServiceKind
from customers.models import Service
from customers.selectors import user_has_role, user_is_staff
from incidents.downtime import TZ, month_bounds
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from .choices import PlatformEventKind
from .models import BillingErrorFigure, MailDomain, MailPlatform, PlatformEvent

logger = logging.getLogger(__name__)

# Platforms, domains, faults and adjustments are the technical engineers' records; managers may
# act for them. The billing figures come from billing staff; the portal has no billing role yet,
# so a manager enters them, or a staff user an admin gave the model's add permission (the way
# credits lets billing apply credits through credits.approve_credit).
EDITOR_ROLES = (Role.ENGINEER, Role.MANAGER)
BILLING_ROLES = (Role.MANAGER,)
BILLING_PERMISSION = "mailservice.add_billingerrorfigure"


def user_may_enter_billing(user: Any) -> bool:
    """Managers, and staff holding the billing figures' add permission."""
    return user_has_role(user, *BILLING_ROLES) or (user_is_staff(user) and bool(user.has_perm(BILLING_PERMISSION)))

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def _require(actor: Any, roles: tuple[str, ...]) -> None:
    if roles == BILLING_ROLES:
        if not user_may_enter_billing(actor):
            raise ForbiddenError(_("Only a manager can enter the billing figures."))
    elif not user_has_role(actor, *roles):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _rejudge_after_commit(*, service_ids: list[int], since: datetime, until: datetime, reason: str,
                          now: datetime) -> None:
    """After the commit, re-judge these services in every closed month [since, until) reaches."""
    ids = sorted(set(service_ids))
    if not ids:
        return

    def run() -> None:
        from settlement.services import months_rejudge_for_outages

        try:
            months_rejudge_for_outages(service_ids=ids, since=since, until=until, now=now, reason=reason)
        except Exception:  # the change is saved; the daily close job re-judges what this missed
            logger.exception("re-judging closed months for e-mail services %s failed", ids)

    transaction.on_commit(run)


def _email_services_on(platform_ids: set[int]) -> list[int]:
    return list(MailDomain.objects.filter(platform_id__in=platform_ids, service__kind=ServiceKind.EMAIL)
                .values_list("service_id", flat=True).distinct())


def _year_end(at: datetime) -> datetime:
    """The end of the Asia/Shanghai year of `at`: a fault changes the fault-free days (E3-DAYS) of
    every later month of its year."""
    return datetime(at.astimezone(TZ).year + 1, 1, 1, tzinfo=TZ)


# --- Mail platforms ---------------------------------------------------------------------------

def mail_platform_save(*, actor: Any, data: dict[str, Any], platform: MailPlatform | None = None,
                       now: datetime | None = None) -> MailPlatform:
    """Create or change a mail platform (name, description)."""
    _require(actor, EDITOR_ROLES)
    now = now or timezone.now()
    platform = platform or MailPlatform()
    data = {**data, "name": str(data.get("name", platform.name) or "").strip()}
    with transaction.atomic():
        if platform.pk:
            platform = MailPlatform.objects.select_for_update().get(pk=platform.pk)
        audited_save(obj=platform, fields=("name", "description"), data=data, actor=actor, now=now)
    return platform


def mail_platform_delete(*, actor: Any, platform_id: int, reason: str = "", now: datetime | None = None) -> None:
    """Delete a platform nothing refers to (its domains and events keep it otherwise: 409)."""
    _require(actor, EDITOR_ROLES)
    with transaction.atomic():
        platform = MailPlatform.objects.select_for_update().get(pk=platform_id)
        audited_delete(obj=platform, actor=actor, now=now or timezone.now(), reason=reason)


# --- Mail domains -------------------------------------------------------------------------------

def mail_domain_save(*, actor: Any, service: Service, data: dict[str, Any], domain: MailDomain | None = None,
                     now: datetime | None = None) -> MailDomain:
    """Attach a customer's mail domain to its e-mail service and the platform hosting it (or
    change one). Delivery-log lines and probe results are attributed through it."""
    _require(actor, EDITOR_ROLES)
    now = now or timezone.now()
    name = str(data.get("domain", domain.domain if domain else "") or "").strip().lower().rstrip(".")
    errors: dict[str, list[Any]] = {}
    if not DOMAIN_RE.match(name):
        errors["domain"] = [_("Enter a domain name such as example.com.cn.")]
    if service.kind != ServiceKind.EMAIL:
        errors["service"] = [_("Only an e-mail service has mail domains.")]
    platform = data.get("platform", domain.platform if domain else None)
    if isinstance(platform, int):
        platform = MailPlatform.objects.filter(pk=platform).first()
    if platform is None:
        errors["platform"] = [_("Choose the platform that hosts the domain.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        obj = MailDomain.objects.select_for_update().get(pk=domain.pk) if domain else MailDomain()
        obj.customer_id = service.customer_id
        audited_save(obj=obj, fields=("domain", "service", "platform"),
                     data={"domain": name, "service": service, "platform": platform}, actor=actor, now=now)
    return obj


def mail_domain_delete(*, actor: Any, domain_id: int, reason: str = "", now: datetime | None = None) -> None:
    """Delete a domain that has measured nothing yet (one with latency history is kept: 409)."""
    _require(actor, EDITOR_ROLES)
    with transaction.atomic():
        obj = MailDomain.objects.select_for_update().get(pk=domain_id)
        audited_delete(obj=obj, actor=actor, now=now or timezone.now(), reason=reason)


# --- Platform faults and adjustments (E3) ------------------------------------------------------

EVENT_FIELDS = ("platform", "kind", "title", "started_at", "ended_at", "note")


def _event_checks(*, data: dict[str, Any], now: datetime) -> None:
    errors: dict[str, list[Any]] = {}
    started, ended = data.get("started_at"), data.get("ended_at")
    if started is not None and ended is not None and ended <= started:
        errors["ended_at"] = [_("The end must be after the start.")]
    # A fault is recorded when it has happened; an adjustment (maintenance) may be planned ahead.
    if data.get("kind") == PlatformEventKind.FAULT and started is not None and started > now:
        errors["started_at"] = [_("A fault cannot start in the future.")]
    if ended is not None and ended > now and data.get("kind") == PlatformEventKind.FAULT:
        errors["ended_at"] = [_("A fault cannot end in the future; leave the end empty while it lasts.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)


def platform_event_save(*, actor: Any, data: dict[str, Any], event: PlatformEvent | None = None,
                        now: datetime | None = None) -> PlatformEvent:
    """Record (or correct) a fault or an adjustment of a mail platform. It counts for every e-mail
    service whose domains the platform hosts; a closed month it reaches is re-judged."""
    _require(actor, EDITOR_ROLES)
    now = now or timezone.now()
    with transaction.atomic():
        obj = PlatformEvent.objects.select_for_update().get(pk=event.pk) if event else PlatformEvent()
        before = (obj.platform_id, obj.started_at, obj.ended_at) if obj.pk else None
        merged = {f: data.get(f, getattr(obj, f, None) if obj.pk else None) for f in EVENT_FIELDS}
        if isinstance(merged["platform"], int):
            merged["platform"] = MailPlatform.objects.filter(pk=merged["platform"]).first()
        if merged["platform"] is None:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"platform": [_("Choose the platform.")]})
        merged["title"] = str(merged["title"] or "").strip()
        merged["note"] = str(merged["note"] or "")
        _event_checks(data=merged, now=now)
        if not obj.pk:
            obj.recorded_by, obj.recorded_at = _user(actor), now
        audited_save(obj=obj, fields=EVENT_FIELDS, data=merged, actor=actor, now=now)
        _event_rejudge(obj, before=before, now=now,
                       reason=_("a platform fault or adjustment was recorded or changed after the month was closed"))
    return obj


def platform_event_end(*, actor: Any, event_id: int, ended_at: datetime, note: str = "",
                       now: datetime | None = None) -> PlatformEvent:
    """End a fault or an adjustment that is still going on."""
    _require(actor, EDITOR_ROLES)
    now = now or timezone.now()
    with transaction.atomic():
        obj = PlatformEvent.objects.select_for_update().get(pk=event_id)
        if obj.ended_at is not None:
            raise ConflictError(_("This fault or adjustment has already ended."))
        if ended_at <= obj.started_at:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"ended_at": [_("The end must be after the start.")]})
        if ended_at > now:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"ended_at": [_("The end cannot be in the future.")]})
        before = (obj.platform_id, obj.started_at, obj.ended_at)
        data: dict[str, Any] = {"ended_at": ended_at}
        if note:
            data["note"] = f"{obj.note}\n{note}".strip()
        audited_save(obj=obj, fields=("ended_at", "note"), data=data, actor=actor, now=now, reason=note)
        _event_rejudge(obj, before=before, now=now,
                       reason=_("a platform fault or adjustment ended after the month was closed"))
    return obj


def platform_event_delete(*, actor: Any, event_id: int, reason: str, now: datetime | None = None) -> None:
    """Delete a fault or an adjustment recorded in error, with a reason (kept in the audit trail)."""
    _require(actor, EDITOR_ROLES)
    now = now or timezone.now()
    if not (reason or "").strip():
        raise DomainError(_("Please correct the errors below."),
                          field_errors={"reason": [_("Say why it is deleted.")]})
    with transaction.atomic():
        obj = PlatformEvent.objects.select_for_update().get(pk=event_id)
        before = (obj.platform_id, obj.started_at, obj.ended_at)
        audited_delete(obj=obj, actor=actor, now=now, reason=reason)
        _event_rejudge(None, before=before, now=now,
                       reason=_("a platform fault or adjustment was deleted after the month was closed"))


def _event_rejudge(obj: PlatformEvent | None, *, before: tuple[int, datetime, datetime | None] | None,
                   now: datetime, reason: str) -> None:
    """The span the change reaches (old and new extents) to the end of its year (E3-DAYS of the
    later months), for the e-mail services of the old and the new platform."""
    spans = []
    platforms: set[int] = set()
    if before is not None:
        platforms.add(before[0])
        spans.append((before[1], before[2] or now))
    if obj is not None:
        platforms.add(obj.platform_id)
        spans.append((obj.started_at, obj.ended_at or now))
    since = min(s for s, _e in spans)
    until = _year_end(max(e for _s, e in spans))
    _rejudge_after_commit(service_ids=_email_services_on(platforms), since=since, until=until, reason=reason,
                          now=now)


# --- Billing figures (E3 billing error rate) -----------------------------------------------------

def billing_figure_save(*, actor: Any, month: date, customers_billed: int, customers_with_error: int,
                        note: str | None = None, now: datetime | None = None) -> BillingErrorFigure:
    """Enter (or correct) a month's billing figures: the customers billed and those billed wrongly
    (`note` None keeps the note a correction does not mention). Provider-wide: a closed month is
    re-judged for every e-mail service."""
    _require(actor, BILLING_ROLES)
    now = now or timezone.now()
    first = month.replace(day=1)
    errors: dict[str, list[Any]] = {}
    this_month = timezone.localtime(now, TZ).date().replace(day=1)
    if first > this_month:
        errors["month"] = [_("The month has not begun yet.")]
    if customers_billed < 1:
        errors["customers_billed"] = [_("Enter the number of customers billed (at least one).")]
    if customers_with_error < 0:
        errors["customers_with_error"] = [_("The number cannot be negative.")]
    elif customers_billed >= 1 and customers_with_error > customers_billed:
        errors["customers_with_error"] = [_("More customers with an error than customers billed.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        obj = BillingErrorFigure.objects.select_for_update().filter(month=first).first()
        if obj is None:
            obj = BillingErrorFigure(month=first, entered_at=now, entered_by=_user(actor))
        else:
            obj.entered_at, obj.entered_by = now, _user(actor)
        audited_save(obj=obj, fields=("month", "customers_billed", "customers_with_error", "note"),
                     data={"month": first, "customers_billed": customers_billed,
                           "customers_with_error": customers_with_error,
                           "note": obj.note if note is None else note}, actor=actor, now=now)
        start, end = month_bounds(first.year, first.month)
        ids = list(Service.objects.filter(kind=ServiceKind.EMAIL).values_list("pk", flat=True))
        _rejudge_after_commit(service_ids=ids, since=start, until=end - timedelta(seconds=1), now=now,
                              reason=_("the billing figures were entered or corrected after the month was closed"))
    return obj
