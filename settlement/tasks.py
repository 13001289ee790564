"""Thin Celery tasks: take ids and dates, call a service. Idempotent."""

from __future__ import annotations

from datetime import date

from celery import shared_task


@shared_task(acks_late=True)
def close_due() -> int:
    """Early every day: close last month if it is still open; re-judge it while the 5-day
    reporting windows of its last outages can still lapse."""
    from .services import months_close_due

    return len(months_close_due())


@shared_task(acks_late=True)
def issue_statements(*, month: str, customer_ids: list[int]) -> int:
    """Issue (or re-issue, when the month was re-judged) these customers' monthly statements and
    e-mail them to the authorized contacts who opted in."""
    from .statements import statements_issue

    return len(statements_issue(month=date.fromisoformat(month), customer_ids=customer_ids))


@shared_task(acks_late=True)
def issue_stale_statements() -> int:
    """Hourly: last month's statements that the close could not queue (broker down) or that a
    re-judgement made stale."""
    from .services import statements_issue_stale

    return len(statements_issue_stale())
