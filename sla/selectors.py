"""Reads of the SLA engine: the overdue review across every workflow, scoped by tenant."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, models
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from customers.selectors import scope_for_user

from .choices import ClockState
from .models import Clock


class Bucket(models.TextChoices):
    OVERDUE = "overdue"
    WARNING = "warning"
    ON_TRACK = "on_track"


def clock_list(*, user: Any) -> models.QuerySet[Clock]:
    return scope_for_user(
        Clock.objects.select_related("policy", "customer", "assignee", "content_type"), user)


# The most clocks one live refresh may ask about (a page shows at most a few pages' worth).
LIVE_MAX_IDS = 200


def clock_live_list(*, user: Any, ids: list[int]) -> models.QuerySet[Clock]:
    """The few fields a live page refreshes, of those of `ids` the user may see (one query; an
    id outside the user's scope is simply absent)."""
    return clock_list(user=user).select_related(None).filter(pk__in=ids[:LIVE_MAX_IDS]).only(
        "id", "state", "due_at", "warn_at", "warned_at", "paused_at", "customer_id").order_by("id")


def overdue_review(
    *, user: Any, now: datetime | None = None, customer_id: int | None = None,
    assignee_id: int | None = None, policy_code: str | None = None, bucket: str | None = None,
    include_on_track: bool = False,
) -> models.QuerySet[Clock]:
    """Every open clock that is overdue (due_at passed, or already breached and not fulfilled)
    or inside its warning window, most urgent first. Breached clocks stay on the list until the
    obligation is fulfilled: a late report is still owed."""
    now = now or timezone.now()
    qs = clock_list(user=user).filter(
        Q(state__in=[ClockState.RUNNING, ClockState.PAUSED])
        | Q(state=ClockState.BREACHED, completed_at__isnull=True)
    ).annotate(
        bucket=Case(
            When(Q(state=ClockState.BREACHED) | Q(due_at__lte=now), then=Value(Bucket.OVERDUE)),
            When(warn_at__lte=now, then=Value(Bucket.WARNING)),
            default=Value(Bucket.ON_TRACK),
            output_field=models.CharField(),
        ),
    )
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    if bucket:
        qs = qs.filter(bucket=bucket)
    elif not include_on_track:
        qs = qs.exclude(bucket=Bucket.ON_TRACK)
    return qs.order_by("due_at", "id")


def breach_history(*, user: Any, since: datetime | None = None) -> models.QuerySet[Clock]:
    since = since or timezone.now() - timedelta(days=90)
    return clock_list(user=user).filter(state=ClockState.BREACHED, breached_at__gte=since).order_by("-breached_at")


def policy_list() -> models.QuerySet[Any]:
    """The promises; not customer data (every staff role reads the same table)."""
    from .models import SlaPolicy

    return SlaPolicy.objects.all()


def contract_policy_list(*, user: Any) -> models.QuerySet[Any]:
    """Per-contract overrides, scoped by the contract's customer."""
    from .models import ContractPolicy

    return scope_for_user(
        ContractPolicy.objects.select_related("contract", "contract__customer", "policy"), user,
        customer_field="contract__customer").order_by("contract__number", "policy__code")


def workday_override_list() -> models.QuerySet[Any]:
    from .models import WorkdayOverride

    return WorkdayOverride.objects.all()


def policy_target_display(code: str) -> str:
    """The target of promise `code` as people read it ("24 小时", "30 minutes"), from the policy
    row — so a page that mentions a deadline never repeats a number that lives in the table."""
    from .models import SlaPolicy

    policy = SlaPolicy.objects.filter(code=code).only("threshold", "unit").first()
    if policy is None:
        return ""
    value = policy.threshold.normalize()
    return f"{value:f} {policy.get_unit_display()}"


def clocks_next_event_at() -> datetime | None:
    """The earliest warning time or deadline among running clocks: when the sweep must next act.
    Two index-only lookups (the first row of an index each), whatever the number of clocks."""
    due = (Clock.objects.filter(state=ClockState.RUNNING).order_by("due_at")
           .values_list("due_at", flat=True).first())
    warn = (Clock.objects.filter(state=ClockState.RUNNING, warned_at__isnull=True).order_by("warn_at")
            .values_list("warn_at", flat=True).first())
    times = [t for t in (due, warn) if t is not None]
    return min(times) if times else None


# --- work queues on the home pages ------------------------------------------------------------

class QueueGroup(models.TextChoices):
    """The three groups of a work queue: breached and still owed (or past due and not yet swept),
    inside the warning window, and running on time."""

    BREACHED = "breached"
    AT_RISK = "at_risk"
    RUNNING = "running"


QUEUE_LIMIT = 20  # per group on the home page; the "see all" link lists the rest


@dataclass
class QueueRow:
    clock: Clock
    item_url: str


@dataclass
class WorkQueue:
    """One person's (or one customer's) clocks by group, each group oldest deadline first and cut
    at `limit` rows; `counts` are the full numbers."""

    groups: dict[str, list[QueueRow]]
    counts: dict[str, int]
    limit: int = QUEUE_LIMIT

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _queue_groups(now: datetime) -> dict[str, Q]:
    """Each group as a filter the (state, due_at) and (state, warn_at) indexes serve."""
    open_ = Q(state__in=[ClockState.RUNNING, ClockState.PAUSED])
    return {
        QueueGroup.BREACHED: Q(state=ClockState.BREACHED, completed_at__isnull=True) | (open_ & Q(due_at__lte=now)),
        QueueGroup.AT_RISK: open_ & Q(due_at__gt=now, warn_at__lte=now),
        QueueGroup.RUNNING: open_ & Q(due_at__gt=now, warn_at__gt=now),
    }


def _work_queue(qs: models.QuerySet[Clock], *, now: datetime, limit: int) -> WorkQueue:
    """Two queries whatever the number of clocks: each clock that still asks for work (running
    or paused, or breached and not yet fulfilled, as on the overdue review: a late report is
    still owed) gets its group, its rank in the group by deadline and the group's size (window
    functions), and the first `limit` of each group, each with its group's full count, are
    loaded. (Four queries did this before; planning each cost the database more than running it.)"""
    groups_q = _queue_groups(now)
    # The ranking reads the clocks' own columns only (the partial index of open clocks serves
    # it): the ORM writes which clocks (scope and "asks for work"), hand-written SQL around it
    # groups and ranks them, as _queue_groups does (the ORM's version of this cost more to
    # compile than to run). The rows shown, at most 3 x `limit`, are then loaded in full.
    anywhere = functools.reduce(operator.or_, groups_q.values())
    inner, params = (qs.select_related(None).filter(anywhere).order_by()
                     .values("id", "state", "due_at", "warn_at", "completed_at").query.sql_with_params())
    conn = connections[qs.db]
    at = conn.ops.adapt_datetimefield_value(now)
    sql = f"""
        SELECT id, queue_group, queue_count FROM (
            SELECT id, queue_group,
                   ROW_NUMBER() OVER (PARTITION BY queue_group ORDER BY due_at, id) AS queue_rank,
                   COUNT(*) OVER (PARTITION BY queue_group) AS queue_count
            FROM (SELECT id, due_at, CASE
                    WHEN (state = %s AND completed_at IS NULL) OR (state IN (%s, %s) AND due_at <= %s) THEN %s
                    WHEN state IN (%s, %s) AND due_at > %s AND warn_at <= %s THEN %s
                    WHEN state IN (%s, %s) AND due_at > %s AND warn_at > %s THEN %s
                  END AS queue_group
                  FROM ({inner}) AS open_clocks) AS grouped
            WHERE queue_group IS NOT NULL) AS ranked
        WHERE queue_rank <= %s"""
    run, pause, late = ClockState.RUNNING.value, ClockState.PAUSED.value, ClockState.BREACHED.value
    with conn.cursor() as cursor:
        cursor.execute(sql, [late, run, pause, at, QueueGroup.BREACHED.value,
                             run, pause, at, at, QueueGroup.AT_RISK.value,
                             run, pause, at, at, QueueGroup.RUNNING.value, *params, limit])
        ranked = cursor.fetchall()
    by_id = {pk: (g, n) for pk, g, n in ranked}
    rows = list(qs.filter(pk__in=by_id).order_by("due_at", "id")) if by_id else []
    groups: dict[str, list[QueueRow]] = {str(g): [] for g in groups_q}
    counts = dict.fromkeys(groups, 0)
    for c in rows:
        g, n = by_id[c.pk]
        if g in groups:
            groups[g].append(QueueRow(clock=c, item_url=clock_item_url(c)))
            counts[g] = int(n)
    return WorkQueue(groups=groups, counts=counts, limit=limit)


def my_work_queue(*, user: Any, now: datetime | None = None, limit: int = QUEUE_LIMIT) -> WorkQueue:
    """A staff member's queue across every workflow: the clocks assigned to them, and the clocks
    nobody is assigned to of customers whose services name them as specialist or engineer (an
    unassigned spam case or service request of "my" customer is mine to pick up)."""
    from customers.models import Service

    mine = Service.objects.filter(Q(specialist=user) | Q(engineer=user)).values("customer_id")
    qs = clock_list(user=user).filter(Q(assignee=user) | Q(assignee__isnull=True, customer_id__in=mine))
    return _work_queue(qs, now=now or timezone.now(), limit=limit)


def customer_work_queue(*, user: Any, now: datetime | None = None, limit: int = QUEUE_LIMIT) -> WorkQueue:
    """What a customer user sees running for their organisation, breached ones included (scoped
    by clock_list: another customer's clocks are never there)."""
    return _work_queue(clock_list(user=user), now=now or timezone.now(), limit=limit)


# The page of the item a clock is about, by the subject's app label and model; the item's own
# page is where the work is done. A subject of any other kind falls back to the clock's page.
_ITEM_PAGES: dict[tuple[str, str], str] = {
    ("complaints", "complaint"): "complaints:detail",
    ("incidents", "incident"): "incidents:detail",
    ("operations", "operationrequest"): "operations:detail",
    ("access_requests", "visit"): "access_requests:detail",
    ("servicedesk", "servicerequest"): "servicedesk:detail",
    ("orders", "installationorder"): "orders:detail",
    ("orders", "provisioningorder"): "orders:provisioning_detail",
    ("abuse", "spamcase"): "abuse:detail",
}


def clock_item_url(clock: Clock) -> str:
    """The URL of the item (complaint, operation, incident …) the clock is about, without
    loading it: the content type is already joined and the detail pages take the subject's pk.
    ISC lists go to their list page, services and contracts to their customer."""
    from django.urls import NoReverseMatch, reverse

    ct = clock.content_type
    key = (ct.app_label, ct.model)
    try:
        if key in _ITEM_PAGES:
            return reverse(_ITEM_PAGES[key], args=[clock.object_id])
        if key == ("abuse", "iscpublication"):
            return reverse("abuse:publications")
        if ct.app_label == "customers" and clock.customer_id:
            return reverse("customers:detail", args=[clock.customer_id])
    except NoReverseMatch:
        pass
    return reverse("sla:clock_detail", args=[clock.pk])
