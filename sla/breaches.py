"""The breach history and the overdue review across clocks AND period promises.

A clock breach lives here (sla.Clock); a monthly breach (C1, C2, E1–E3, E6 judged at month close)
lives in an app above this one (settlement). So that this app never imports it, such an app
registers a source at start-up: for the breach history a function returning rows in the shape
of `BREACH_COLUMNS` (a values() queryset, unioned in the database so pagination and CSV stay one
query), and for the overdue review a function returning the period items still awaiting action.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import F, Value
from django.utils import timezone

from accounts.people import person_name_expr

from .choices import ClockState
from .selectors import clock_list

# One row of the breach history, whatever it came from.
BREACH_COLUMNS = ("source", "obj_id", "at", "code", "name_zh", "name_en", "item", "customer_name",
                  "assignee_name", "due", "completed", "clause", "month")

BreachSource = Callable[..., "models.QuerySet[Any]"]
OverdueSource = Callable[..., list[dict[str, Any]]]

BREACH_SOURCES: list[BreachSource] = []
OVERDUE_SOURCES: list[OverdueSource] = []


def register_breach_source(fn: BreachSource) -> None:
    if fn not in BREACH_SOURCES:
        BREACH_SOURCES.append(fn)


def register_overdue_source(fn: OverdueSource) -> None:
    if fn not in OVERDUE_SOURCES:
        OVERDUE_SOURCES.append(fn)


def _clock_breaches(*, user: Any, customer_id: int | None, policy_code: str | None,
                    since: datetime, until: datetime | None) -> models.QuerySet[Any]:
    qs = clock_list(user=user).filter(state=ClockState.BREACHED, breached_at__gte=since)
    if until is not None:
        qs = qs.filter(breached_at__lt=until)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    return qs.annotate(
        source=Value("clock", output_field=models.CharField()), obj_id=F("id"), at=F("breached_at"),
        code=F("policy__code"), name_zh=F("policy__name_zh"), name_en=F("policy__name_en"),
        item=F("label"), customer_name=F("customer__name"), assignee_name=person_name_expr("assignee"),
        due=F("due_at"), completed=F("completed_at"), clause=F("policy__clause"),
        month=Value(None, output_field=models.DateField()),
    ).values_list(*BREACH_COLUMNS).order_by()


def breach_rows(*, user: Any, customer_id: int | None = None, policy_code: str | None = None,
                since: date | datetime | None = None, until: date | datetime | None = None
                ) -> models.QuerySet[Any]:
    """Clock breaches and monthly breaches since `since` (default: 90 days), newest first, as
    tuples in BREACH_COLUMNS order (one UNION ALL query: pages and CSV read the same rows)."""
    since_dt = _as_datetime(since) or timezone.now() - timedelta(days=90)
    until_dt = _as_datetime(until)
    qs = _clock_breaches(user=user, customer_id=customer_id, policy_code=policy_code, since=since_dt,
                         until=until_dt)
    others = [src(user=user, customer_id=customer_id, policy_code=policy_code, since=since_dt, until=until_dt)
              for src in BREACH_SOURCES]
    if others:
        qs = qs.union(*others, all=True)
    return qs.order_by("-at", "source", "-obj_id")


def _as_datetime(value: date | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime(value.year, value.month, value.day))


def breach_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(BREACH_COLUMNS, row, strict=True))


def overdue_period_rows(*, user: Any, customer_id: int | None = None, policy_code: str | None = None,
                        assignee_id: int | None = None) -> list[dict[str, Any]]:
    """Period promises found broken whose remedy still awaits a decision or billing."""
    rows: list[dict[str, Any]] = []
    for src in OVERDUE_SOURCES:
        rows += src(user=user, customer_id=customer_id, policy_code=policy_code, assignee_id=assignee_id)
    return rows


def local_month_sql(vendor: str) -> str:
    """SQL for a breach row's Asia/Shanghai month as 'YYYY-MM': a monthly breach's own month,
    else the month of its time (stored in UTC). SQLite (make run's database) keeps times as UTC
    text and has no time zones; Asia/Shanghai has had no daylight saving since 1991, so it is
    the time plus 8 hours there."""
    if vendor == "sqlite":
        # Cut to the second first: SQLite rounds fractions to the millisecond, which would move
        # 23:59:59.9999 into the next month.
        return "strftime('%Y-%m', COALESCE(b.month, datetime(substr(b.at, 1, 19), '+8 hours')))"
    return "to_char(COALESCE(b.month, (b.at AT TIME ZONE 'Asia/Shanghai')::date), 'YYYY-MM')"


def breach_chart(*, user: Any, customer_id: int | None = None, policy_code: str | None = None,
                 months: int = 12, now: datetime | None = None) -> dict[str, Any]:
    """Breaches per promise and month over the last `months` Asia/Shanghai months (this one
    included), for the breach history's chart: the same rows as breach_rows (clock breaches by the
    month they breached, monthly breaches by the month judged), counted by the database in one
    query over their union."""
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.utils.translation import get_language

    tz = ZoneInfo("Asia/Shanghai")
    local = timezone.localtime(now or timezone.now(), tz)
    y, m = local.year, local.month
    ym: list[tuple[int, int]] = []
    for _i in range(months):
        ym.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    ym.reverse()
    labels = [f"{a}-{b:02d}" for a, b in ym]
    # A monthly breach is judged early the next month: reading from the month before the first
    # keeps the first month's judgement, the label filter below drops the month before's.
    py, pm = (ym[0][0] - 1, 12) if ym[0][1] == 1 else (ym[0][0], ym[0][1] - 1)
    since = datetime(py, pm, 1, tzinfo=tz)
    rows = breach_rows(user=user, customer_id=customer_id, policy_code=policy_code, since=since)
    sql, params = rows.order_by().query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT b.code, MAX(b.name_zh), MAX(b.name_en), {local_month_sql(connection.vendor)} AS ym, "
            f"COUNT(*) FROM ({sql}) b GROUP BY b.code, ym", params)
        counted = cur.fetchall()
    english = (get_language() or "").startswith("en")
    names: dict[str, str] = {}
    per: dict[str, dict[str, int]] = {}
    for code, zh, en, month, n in counted:
        if month not in labels:
            continue
        names[code] = f"{code} {en if english else zh}"
        per.setdefault(code, {})[month] = int(n)
    codes = sorted(per)
    series = [{"code": c, "name": names[c], "values": [per[c].get(lb, 0) for lb in labels]} for c in codes]
    totals = [sum(per[c].get(lb, 0) for c in codes) for lb in labels]
    return {"labels": labels, "series": series, "totals": totals,
            "titles": [f"{lb}: {t}" for lb, t in zip(labels, totals, strict=True)]}
