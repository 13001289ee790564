"""Reads of the SLA engine: the overdue review across every workflow, scoped by tenant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models
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
