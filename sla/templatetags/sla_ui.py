"""Template helpers of the SLA pages: time left on a clock, and the missing-calendar banner."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.choices import ClockState
from slaportal.ui import esc, local_minute

register = template.Library()


def seconds_left(clock: Any, now: datetime | None = None) -> int:
    """Seconds until due (negative once overdue). A paused clock's time stands still."""
    now = now or timezone.now()
    if clock.state == ClockState.PAUSED and clock.paused_at:
        now = clock.paused_at
    return int((clock.due_at - now).total_seconds())


def format_span(seconds: int) -> str:
    """A duration as days/hours/minutes, rounded down to the minute."""
    minutes = abs(int(seconds)) // 60
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    if d:
        return _("%(d)d d %(h)d h") % {"d": d, "h": h}
    if h:
        return _("%(h)d h %(m)d min") % {"h": h, "m": m}
    return _("%(m)d min") % {"m": m}


def time_left_text(clock: Any, now: datetime | None = None) -> str:
    """'3 h 12 min left' or 'overdue by 5 min'; met and cancelled clocks have no time left."""
    if clock.state in (ClockState.MET, ClockState.CANCELLED):
        return "—"
    secs = seconds_left(clock, now)
    if secs < 0 or clock.state == ClockState.BREACHED:
        return _("overdue by %(span)s") % {"span": format_span(secs)}
    if clock.state == ClockState.PAUSED:
        return _("paused, %(span)s left") % {"span": format_span(secs)}
    return _("%(span)s left") % {"span": format_span(secs)}


def _iso(value: datetime | None) -> str:
    """An aware time as ISO 8601 with its offset (the portal's zone), to the millisecond."""
    return timezone.localtime(value).isoformat(timespec="milliseconds") if value else ""


def clock_is_late(clock: Any, now: datetime | None = None) -> bool:
    return clock.state == ClockState.BREACHED or (
        clock.state in (ClockState.RUNNING, ClockState.PAUSED) and seconds_left(clock, now) < 0)


def clock_in_warning(clock: Any, now: datetime | None = None) -> bool:
    """A running clock past its warning time but not yet overdue."""
    warn_at = getattr(clock, "warn_at", None)
    if clock.state != ClockState.RUNNING or warn_at is None or clock_is_late(clock, now):
        return False
    return (now or timezone.now()) >= warn_at


@register.simple_tag
def time_left(clock: Any, now: datetime | None = None) -> SafeString:
    """The time left on a clock as a live countdown: the server's text (the no-JS fallback) in a
    span carrying the clock's id, due and warning times and state, which static/js/live.js
    re-renders every second and refreshes from /api/clocks/live/."""
    return mark_safe(_countdown(clock, now or timezone.now()))  # noqa: S308 - escaped by esc()


def _countdown(clock: Any, now: datetime) -> str:
    """time_left()'s span, as text (the values escaped)."""
    classes = "countdown"
    if clock_is_late(clock, now):
        classes += " late"
    elif clock_in_warning(clock, now):
        classes += " soon"
    pk = getattr(clock, "pk", None)
    data_clock = f' data-clock="{int(pk)}"' if pk else ""
    return (f'<span class="{classes}"{data_clock} data-due="{esc(_iso(clock.due_at))}" '
            f'data-warn="{esc(_iso(getattr(clock, "warn_at", None)))}" data-state="{esc(clock.state)}">'
            f"{esc(time_left_text(clock, now))}</span>")


@register.simple_tag
def queue_rows(rows: Any, now: datetime | None = None) -> SafeString:
    """The rows of a work-queue group (home/_work_queue.html) as HTML, written here rather than
    by the template language: the same cells, every value escaped (slaportal.ui.esc), at a
    fraction of the cost (the staff home renders up to 60 such rows on every visit)."""
    from django.urls import reverse

    now = now or timezone.now()
    detail = reverse("sla:clock_detail", args=[0])[:-2]  # ".../clocks/"; + pk + "/"
    out = []
    for r in rows:
        c, p = r.clock, r.clock.policy
        out.append(
            f'<tr data-queue-clock="{int(c.pk)}"><td><a href="{esc(r.item_url)}">{esc(c.label)}</a></td>'
            f'<td title="{esc(p.clause)}"><a href="{detail}{int(c.pk)}/">{esc(p.code)}</a> {esc(p.name)}</td>'
            f"<td>{esc(c.customer or '—')}</td>"
            f'<td><span class="pill {esc(c.state)}">{esc(c.get_state_display())}</span></td>'
            f'<td class="when">{local_minute(c.due_at)}</td>'
            f'<td class="{"late" if clock_is_late(c, now) else ""}">{_countdown(c, now)}</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value is escaped by esc()


@register.simple_tag
def clock_rows(clocks: Any, hide_customer: Any = False, now: datetime | None = None) -> SafeString:
    """The rows of sla/_clock_table.html as HTML (as queue_rows: the same cells, escaped, at a
    fraction of the template language's cost)."""
    from django.urls import reverse

    from accounts.people import person_name

    now = now or timezone.now()
    detail = reverse("sla:clock_detail", args=[0])[:-2]
    out = []
    for c in clocks:
        p = c.policy
        customer = "" if hide_customer else f"<td>{esc(c.customer or '—')}</td>"
        out.append(
            f'<tr><td title="{esc(p.clause)}">{esc(p.code)} {esc(p.name)}</td>'
            f'<td><a href="{detail}{int(c.pk)}/">{esc(c.label)}</a></td>{customer}'
            f"<td>{esc(person_name(c.assignee) or '—')}</td>"
            f'<td><span class="pill {esc(c.state)}" data-clock-pill="{int(c.pk)}">{esc(c.get_state_display())}</span></td>'
            f'<td class="when">{local_minute(c.due_at)}</td>'
            f'<td class="{"late" if clock_is_late(c, now) else ""}">{_countdown(c, now)}</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value is escaped by esc()


@register.simple_tag
def overdue_rows(clocks: Any, now: datetime | None = None) -> SafeString:
    """The rows of the overdue review (sla/overdue.html) as HTML (as clock_rows)."""
    from django.urls import reverse

    from accounts.people import person_name

    now = now or timezone.now()
    detail = reverse("sla:clock_detail", args=[0])[:-2]
    customer_page = reverse("customers:detail", args=[0])[:-2]
    labels = {"overdue": esc(_("overdue")), "warning": esc(_("warning"))}
    out = []
    for c in clocks:
        p = c.policy
        bucket = c.bucket
        customer = (f'<a href="{customer_page}{int(c.customer_id)}/">{esc(c.customer)}</a>'
                    if c.customer_id else "—")
        out.append(
            f'<tr><td><span class="pill {esc(bucket)}" data-clock-bucket="{int(c.pk)}">'
            f'{labels["overdue"] if bucket == "overdue" else labels["warning"]}</span></td>'
            f'<td title="{esc(p.clause)}">{esc(p.code)} {esc(p.name)}</td>'
            f'<td><a href="{detail}{int(c.pk)}/">{esc(c.label)}</a></td><td>{customer}</td>'
            f"<td>{esc(person_name(c.assignee) or '—')}</td>"
            f'<td><span class="pill {esc(c.state)}" data-clock-pill="{int(c.pk)}">{esc(c.get_state_display())}</span></td>'
            f'<td class="when">{local_minute(c.started_at)}</td><td class="when">{local_minute(c.due_at)}</td>'
            f'<td class="{"late" if bucket == "overdue" else "soon"}">{_countdown(c, now)}</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value is escaped by esc()


@register.simple_tag
def breach_rows(rows: Any, lang: str = "") -> SafeString:
    """The rows of the breach history (sla/breach_list.html) as HTML (as clock_rows); `rows`
    are the dictionaries sla.breaches.breach_rows() gives."""
    from django.urls import reverse

    clock_page = reverse("sla:clock_detail", args=[0])[:-2]
    judgement_page = reverse("settlement:judgement_detail", args=[0])[:-2]
    english = (lang or "")[:2] == "en"
    monthly, owed = esc(_("monthly")), esc(_("still owed"))
    out = []
    for r in rows:
        month = r.get("month")
        ym = month.strftime("%Y-%m") if month else ""
        if r["source"] == "month":
            when = esc(_("%(m)s, at month end") % {"m": ym})
            item = (f'<span class="pill overdue">{monthly}</span> '
                    f'<a href="{judgement_page}{int(r["obj_id"])}/">{esc(r["item"])} · {ym}</a>')
            done = "—"
        else:
            when = local_minute(r["at"])
            item = f'<a href="{clock_page}{int(r["obj_id"])}/">{esc(r["item"])}</a>'
            done = local_minute(r["completed"]) if r.get("completed") else f'<span class="late">{owed}</span>'
        name = r["name_en"] if english else r["name_zh"]
        out.append(
            f'<tr><td class="when">{when}</td><td title="{esc(r.get("clause", ""))}">{esc(r["code"])} {esc(name)}</td>'
            f"<td>{item}</td><td>{esc(r.get('customer_name') or '—')}</td>"
            f"<td>{esc(r.get('assignee_name') or '—')}</td>"
            f'<td class="when">{local_minute(r["due"]) if r.get("due") else "—"}</td><td>{done}</td></tr>')
    return mark_safe("\n".join(out))  # noqa: S308 - every value is escaped by esc()


@register.filter
def is_late(clock: Any) -> bool:
    return clock_is_late(clock)


@register.simple_tag(takes_context=True)
def live_attrs(context: template.Context) -> SafeString:
    """The <body> attributes live.js needs: the server's time (so a wrong client clock does not
    lie), the time-left wordings in the reader's language (the same as time_left_text and
    format_span) and, for a user who may read clocks, the endpoint it polls."""
    from django.urls import reverse

    from customers.selectors import user_customer_id, user_is_staff

    request = context.get("request")
    user = getattr(request, "user", None)
    may_poll = bool(user is not None and user.is_authenticated and (
        (user_is_staff(user) and user.has_perm("sla.view_clock")) or user_customer_id(user)))
    labels = {
        "days": _("%(d)d d %(h)d h"), "hours": _("%(h)d h %(m)d min"), "minutes": _("%(m)d min"),
        "left": _("%(span)s left"), "overdue": _("overdue by %(span)s"),
        "paused": _("paused, %(span)s left"),
    }
    attrs = [("data-server-now", _iso(timezone.now()))]
    attrs += [(f"data-label-{k}", v) for k, v in labels.items()]
    if may_poll:
        attrs.append(("data-live-endpoint", reverse("api-clock-live")))
    return format_html_join(" ", '{}="{}"', attrs)


@register.simple_tag
def calendar_missing_years() -> list[int]:
    """The current or next year whose working-day calendar nobody has entered yet."""
    from sla.calendars import missing_years

    return missing_years()


@register.filter
def plain(value: Any) -> str:
    """A Decimal without trailing zeros or exponent: 44.0000 → 44, 0.1000 → 0.1, 100 → 100."""
    if value is None:
        return ""
    s = format(Decimal(value).normalize(), "f")
    return s


ACTION_LABELS = {
    "create": gettext_lazy("created"), "change": gettext_lazy("changed"), "start": gettext_lazy("started"),
    "pause": gettext_lazy("paused"), "resume": gettext_lazy("resumed"), "meet": gettext_lazy("met"),
    "cancel": gettext_lazy("cancelled"), "breach": gettext_lazy("breached"), "warn": gettext_lazy("warning sent"),
    "complete_late": gettext_lazy("fulfilled late"), "propose": gettext_lazy("proposed"),
    "approve": gettext_lazy("approved"), "reject": gettext_lazy("rejected"), "apply": gettext_lazy("applied"),
    "meet_in_time": gettext_lazy("met, recorded late (breach withdrawn)"),
    "exempt": gettext_lazy("breach exempted"), "extend": gettext_lazy("deadline extended"),
    "withdraw": gettext_lazy("withdrawn"),
    "notice_missed": gettext_lazy("notice missed"),
    "notice_miss_withdrawn": gettext_lazy("notice miss withdrawn"),
    "notice_miss_no_credit": gettext_lazy("notice missed, nothing owed"),
    "notice_credit_kept": gettext_lazy("day's deduction kept"),
    "notice_reached_in_time": gettext_lazy("contact reached in time"),
    "notice_call": gettext_lazy("call recorded"), "notice_exempt": gettext_lazy("notice exemption"),
    "facility_event": gettext_lazy("facility event"),
    "facility_event_end": gettext_lazy("facility event ended"),
    "facility_event_classify": gettext_lazy("facility event classified"),
    "force_majeure_relief": gettext_lazy("force majeure relief"),
    # Month close and statements
    "month_close": gettext_lazy("month closed"), "rejudge": gettext_lazy("re-judged"),
    "issue": gettext_lazy("issued"),
    # Installation orders
    "item_done": gettext_lazy("checklist item done"), "item_undone": gettext_lazy("checklist item undone"),
    "complete": gettext_lazy("completed"), "deadline_pending": gettext_lazy("deadline pending"),
    "no_clock": gettext_lazy("no deadline clock"), "refund_none": gettext_lazy("no refund owed"),
    "refund_proposed": gettext_lazy("refund proposed"), "refund_withdrawn": gettext_lazy("refund withdrawn"),
    "repoint": gettext_lazy("moved to the installation order"),
    "copy": gettext_lazy("copied to the installation order"),
    # Incidents and outages
    "end": gettext_lazy("ended"), "classify": gettext_lazy("cause classified"),
    "reclassify": gettext_lazy("cause changed"), "reported": gettext_lazy("reported by the customer"),
    "declare": gettext_lazy("emergency declared"), "acknowledge": gettext_lazy("acknowledged"),
    "notice_no_contact": gettext_lazy("no contact to notify"),
    "staff_record": gettext_lazy("recorded by staff"),
    "notice_call_unrecorded": gettext_lazy("call not recorded in time"),
    # Machine-room visits
    "decline": gettext_lazy("declined"), "check_in": gettext_lazy("checked in"),
    "check_out": gettext_lazy("checked out"), "close": gettext_lazy("closed"),
    "mark_no_show": gettext_lazy("marked as no-show"), "not_checked_out": gettext_lazy("not checked out"),
    "overstay": gettext_lazy("overstay"), "visitor_in": gettext_lazy("visitor entered"),
    "visitor_out": gettext_lazy("visitor left"),
    "check_in_override": gettext_lazy("checked in outside the booked time (override)"),
    # Authorized operations and incidents (transitions and records that had no label)
    "authorize": gettext_lazy("authorized"), "finish": gettext_lazy("finished"),
    "refuse": gettext_lazy("refused"), "report": gettext_lazy("written report issued"),
    "step": gettext_lazy("step recorded"), "feedback": gettext_lazy("feedback sent"),
    "written_authorization": gettext_lazy("written authorization received"),
    "receive": gettext_lazy("authorization received"), "accept": gettext_lazy("accepted"),
    "phone_attempt": gettext_lazy("phone authorization attempt"),
    "phone_lock": gettext_lazy("phone authorization locked"),
    "resolve": gettext_lazy("resolved"), "notify": gettext_lazy("contact notified"),
    "redeclare": gettext_lazy("emergency declared again"),
}


@register.filter
def audit_action(value: str) -> str:
    label = ACTION_LABELS.get(value)
    return str(label) if label is not None else value


@register.filter
def state_label(value: str) -> str:
    """A clock or credit state code (or another app's registered states) as its translated label."""
    if not value:
        return "—"
    from credits.choices import CreditState

    for choices in (ClockState, CreditState, *STATE_CHOICES):
        if value in choices.values:
            return str(choices(value).label)
    return value


# States of apps above this one (installation orders, monthly verdicts), registered in their
# AppConfig.ready so the audit trail shows their labels without sla importing them.
STATE_CHOICES: list[Any] = []


# The same code means different things in different workflows ("in_progress" is 开通中 on a
# provisioning order, 进行中 on an operation): an app registers its model's states, and the audit
# trail labels an entry's states by the model the entry is about first.
MODEL_STATE_CHOICES: dict[str, Any] = {}


def register_state_choices(choices: Any, *, model: Any = None) -> None:
    if model is not None:
        MODEL_STATE_CHOICES[model._meta.label_lower] = choices
    if choices not in STATE_CHOICES:
        STATE_CHOICES.append(choices)


@register.filter
def entry_state(entry: Any, side: str) -> str:
    """An audit entry's from ("from") or to ("to") state, labelled by its own model's states."""
    value = entry.from_state if side == "from" else entry.to_state
    from django.contrib.contenttypes.models import ContentType

    ct_id = getattr(entry, "content_type_id", None)
    ct = ContentType.objects.get_for_id(ct_id) if ct_id else None  # cached: no query per row
    choices = MODEL_STATE_CHOICES.get(f"{ct.app_label}.{ct.model}") if ct is not None else None
    if value and choices is not None and value in choices.values:
        return str(choices(value).label)
    return state_label(value)


@register.filter
def comparison_label(value: str) -> str:
    """lt → <, le → ≤ … (a page never shows the stored code)."""
    from sla.choices import Comparison

    return str(Comparison(value).label) if value in Comparison.values else (value or "")


@register.filter
def unit_label(value: str) -> str:
    """minutes → 分钟, percent → %, in the reader's language."""
    from sla.choices import Unit

    if value == Unit.PERCENT:
        return "%"
    return str(Unit(value).label) if value in Unit.values else (value or "")


# Reasons the workflows write as fixed codes (older rows too): shown in the reader's language.
REASON_LABELS = {
    "due_at passed": gettext_lazy("the deadline passed"),
    "warn_at passed": gettext_lazy("the warning time passed"),
    "service created": gettext_lazy("service created"),
    "installation order opened": gettext_lazy("installation order opened"),
    "installation completed": gettext_lazy("installation completed"),
    "C3 breached": gettext_lazy("C3 breached"),
    "C3 breached; the contract's installation fee is 0.00: nothing to refund":
        gettext_lazy("C3 breached; the contract's installation fee is 0.00: nothing to refund"),
    "opened by migration orders.0002 for an existing service":
        gettext_lazy("opened for an existing service when installation orders were introduced"),
    "C3 moved from the contract to its installation order (migration orders.0002)":
        gettext_lazy("C3 moved from the contract to its installation order"),
    "contract signed": gettext_lazy("contract signed"),
    "E4-ISC breached: escalated to the managers": gettext_lazy("E4-ISC breached: escalated to the managers"),
    "case closed": gettext_lazy("case closed"),
    "first staff reply": gettext_lazy("first staff reply"),
    "list processed": gettext_lazy("list processed"),
    "request cancelled": gettext_lazy("request cancelled"),
    "request reopened": gettext_lazy("request reopened"),
    "request resolved": gettext_lazy("request resolved"),
    "result told to the complainant": gettext_lazy("result told to the complainant"),
    "service request opened": gettext_lazy("service request opened"),
    "spam case closed": gettext_lazy("spam case closed"),
    "spam case opened": gettext_lazy("spam case opened"),
    "staff replied and wait for the customer": gettext_lazy("staff replied and wait for the customer"),
    "staff replied": gettext_lazy("staff replied"),
    "step done before the clock could start": gettext_lazy("step done before the clock could start"),
    "the customer answered": gettext_lazy("the customer answered"),
    "waiting for the customer": gettext_lazy("waiting for the customer"),
    "ISC list published": gettext_lazy("ISC list published"),
    "emergency declared": gettext_lazy("emergency declared"),
    "probe succeeded": gettext_lazy("probe succeeded"),
    "every outage has a cause": gettext_lazy("every outage has a cause"),
    "no outage": gettext_lazy("no outage"),
    "customer acknowledged": gettext_lazy("customer acknowledged"),
    "no authorized contact with a notice channel": gettext_lazy("no authorized contact with a notice channel"),
    "resolved alert without firing": gettext_lazy("resolved alert received without a firing one"),
    "written report issued": gettext_lazy("written report issued"),
    "first written report issued": gettext_lazy("first written report issued"),
    "first feedback sent": gettext_lazy("first feedback sent"),
    "operation finished": gettext_lazy("operation finished"),
    "operation cancelled": gettext_lazy("operation cancelled"),
    "complaint accepted": gettext_lazy("complaint accepted"),
    "complaint withdrawn": gettext_lazy("complaint withdrawn"),
    "authorization accepted": gettext_lazy("authorization accepted"),
    "phone authorization accepted": gettext_lazy("phone authorization accepted"),
    "written authorization received": gettext_lazy("written authorization received"),
    "written authorization rejected": gettext_lazy("written authorization rejected"),
    "no check-in within the grace period": gettext_lazy("no check-in within the grace period"),
    "demo data": gettext_lazy("demo data"),
    # The seeded policy rows' "clock starts on" (shown on the promises page through the same filter)
    "payment confirmed": gettext_lazy("payment confirmed"),
    "request opened": gettext_lazy("request opened"),
    "written authorization accepted": gettext_lazy("written authorization accepted"),
}
REASON_PREFIXES = {
    "exempt: ": gettext_lazy("exempt: %(rest)s"),
    "contact reached: ": gettext_lazy("contact reached: %(rest)s"),
    "resolved by ": gettext_lazy("resolved by %(rest)s"),
    "via ": gettext_lazy("via %(rest)s"),
}


@register.filter
def audit_reason(value: str) -> str:
    """An audit reason as people read it: a known code in their language, free text as written."""
    if not value:
        return "—"
    label = REASON_LABELS.get(value)
    if label is not None:
        return str(label)
    for prefix, fmt in REASON_PREFIXES.items():
        if value.startswith(prefix):
            rest = value[len(prefix):]
            return str(fmt) % {"rest": state_label(rest) if rest else rest}
    return value


@register.filter
def service_kind_label(value: str) -> str:
    from customers.choices import ServiceKind

    return str(ServiceKind(value).label) if value in ServiceKind.values else value
