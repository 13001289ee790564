"""Reads of incidents and outages, scoped by tenant (customers.selectors)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.selectors import scope_for_user, user_is_staff

from .models import FacilityEvent, Incident, NoticeAttempt, Outage


def incident_list(*, user: Any, state: str | None = None, customer_id: int | None = None,
                  service_id: int | None = None) -> models.QuerySet[Incident]:
    qs = scope_for_user(Incident.objects.select_related("customer", "service", "target", "engineer"), user)
    if state:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if service_id:
        qs = qs.filter(service_id=service_id)
    return qs.order_by("-detected_at", "-id")


def outage_list(*, user: Any, service_id: int | None = None, kind: str | None = None,
                customer_id: int | None = None) -> models.QuerySet[Outage]:
    qs = scope_for_user(Outage.objects.select_related("customer", "service", "incident", "cause_set_by"), user)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-started_at", "-id")


def notice_attempts_for(incident: Incident) -> models.QuerySet[NoticeAttempt]:
    return incident.notice_attempts.select_related("contact", "notification", "recorded_by").order_by(
        "started_at", "seq", "id")


def facility_event_list(*, user: Any, ongoing: bool | None = None) -> models.QuerySet[FacilityEvent]:
    """Facility events are the data centre's own records: staff see them all; a customer user
    sees none (their outages, with cause and justification, are what they see)."""
    if not user_is_staff(user):
        return FacilityEvent.objects.none()
    # The outage count as a correlated subquery (not COUNT ... GROUP BY): one query for the
    # page whatever its size, and the list stays pageable by keyset.
    outages = (Outage.objects.filter(facility_event=models.OuterRef("pk")).order_by()
               .values("facility_event").annotate(n=models.Count("*")).values("n"))
    qs = (FacilityEvent.objects.select_related("recorded_by", "cause_set_by").prefetch_related("scopes")
          .annotate(outage_total=Coalesce(models.Subquery(outages), 0)))
    if ongoing is True:
        qs = qs.filter(ended_at__isnull=True)
    elif ongoing is False:
        qs = qs.filter(ended_at__isnull=False)
    return qs.order_by("-started_at", "-id")


# --- The charts of the downtime page (drawn by static/js/charts.js from json_script data) ---------

def _months_back(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """`count` months ending with year-month, oldest first."""
    out = []
    y, m = year, month
    for _i in range(count):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _target_availability(r: Any) -> Decimal | None:
    """The promise as an availability figure of that month: C1's "< 44 min" is 99.8981 % of a
    30-day month, C2's "≤ 0.1 %" of downtime is 99.9 %. Read from the policy (and the contract's
    override) the judgement used, never a number written here."""
    from sla.choices import Unit

    if r.threshold is None or not r.month_seconds:
        return None
    if r.unit == Unit.PERCENT:
        down = Decimal(r.threshold)
    elif r.unit == Unit.HOURS:
        down = Decimal(r.threshold) * 3600 * 100 / r.month_seconds
    elif r.unit == Unit.MINUTES:
        down = Decimal(r.threshold) * 60 * 100 / r.month_seconds
    else:
        return None
    return (Decimal(100) - down).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)


def availability_chart(*, service: Any, year: int, month: int, months: int = 12,
                       now: datetime | None = None) -> dict[str, Any]:
    """The network availability (C1, or E1 for e-mail) of `service` per month for the `months`
    months ending with year-month: the bars, the promised level of each month as a line, and
    whether the month broke the promise (the same judgement as the table). Months before the
    contract started or not yet begun have no bar. A bounded number of queries (downtime.
    service_months_downtime)."""
    from .downtime import month_bounds, service_months_downtime
    from .templatetags.downtime_ui import duration

    now = now or timezone.now()
    ym = _months_back(year, month, months)
    results = service_months_downtime(service=service, months=ym, now=now)
    starts_on = getattr(service.contract, "starts_on", None) if service.contract_id else None
    rows: list[dict[str, Any]] = []
    for y, m in ym:
        r = results[(y, m)]
        start, end = month_bounds(y, m)
        label = f"{y}-{m:02d}"
        if start > now or (starts_on is not None and end.date() <= starts_on):
            rows.append({"label": label, "value": None, "target": None, "bad": None, "title": label,
                         "value_text": "—", "downtime_text": "—"})
            continue
        up = (Decimal(100) - Decimal(r.counted_seconds) * 100 / Decimal(r.month_seconds)).quantize(
            Decimal("0.0001"), rounding=ROUND_DOWN)
        target = _target_availability(r)
        verdict = "" if r.breached is None else (_("breached") if r.breached else _("kept"))
        title = _("%(month)s: availability %(value)s %%, counted downtime %(downtime)s") % {
            "month": label, "value": up, "downtime": duration(r.counted_seconds)}
        if target is not None:
            title += " · " + _("promised %(target)s %%") % {"target": target}
        if verdict:
            title += f" · {verdict}"
        rows.append({"label": label, "value": float(up), "target": float(target) if target is not None else None,
                     "bad": r.breached, "title": title, "value_text": f"{up} %", "verdict": verdict,
                     "downtime_text": duration(r.counted_seconds)})
    code = next((r.policy_code for r in results.values() if r.policy_code), None)
    return {"policy": code, "rows": rows, "data": {
        "labels": [r["label"] for r in rows], "values": [r["value"] for r in rows],
        "targets": [r["target"] for r in rows], "bad": [r["bad"] for r in rows],
        "titles": [r["title"] for r in rows]}}


def outage_timeline(*, outages: list[Outage], month_start: datetime, month_end: datetime,
                    now: datetime | None = None) -> dict[str, Any]:
    """The month's outages as segments of a timeline (epoch seconds, clipped to the month; an
    ongoing one ends now), one lane per kind (network, power), coloured by how they count:
    `counted`, `planned` (maintenance the customer agreed to) or `excluded` (another justified
    cause, or not reported within 5 days). `outages` carry `excluded_reason` (the downtime view)."""
    from .choices import Cause, OutageKind
    from .templatetags.downtime_ui import duration

    now = now or timezone.now()
    segments = []
    for o in sorted(outages, key=lambda o: (o.started_at, o.pk)):
        s = max(o.started_at, month_start)
        e = min(o.ended_at or now, month_end)
        if e <= s:
            continue
        reason = getattr(o, "excluded_reason", None)
        cls = "counted" if not reason else ("planned" if reason == Cause.AGREED_MAINTENANCE else "excluded")
        ended = timezone.localtime(o.ended_at).strftime("%Y-%m-%d %H:%M") if o.ended_at else _("ongoing")
        started = timezone.localtime(o.started_at).strftime("%Y-%m-%d %H:%M")
        lasted = duration(int(((o.ended_at or now) - o.started_at).total_seconds()))
        title = f"{started} – {ended} · {lasted} · {o.get_cause_display() or _('not classified')}"
        segments.append({"lane": 1 if o.kind == OutageKind.POWER else 0, "s": int(s.timestamp()),
                         "e": int(e.timestamp()), "cls": cls, "title": title})
    return {"start": int(month_start.timestamp()), "end": int(month_end.timestamp()),
            "now": int(now.timestamp()), "segments": segments}
