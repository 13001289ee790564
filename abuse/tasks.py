"""Thin, idempotent tasks of the anti-spam workflow."""

from typing import Any

from celery import shared_task


@shared_task(name="abuse.tasks.read_mailbox", ignore_result=True)
def read_mailbox() -> dict[str, Any]:
    """Read the abuse mailbox once: each new message becomes one spam case."""
    from .mailbox import mailbox_read_once

    r = mailbox_read_once()
    return {"seen": r.seen, "created": len(r.created), "known": r.known, "error": r.error}


@shared_task(name="abuse.tasks.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    """Open the spam case of any accepted spam complaint that has none; start clocks that
    waited for a working-day calendar year."""
    from .services import cases_reconcile

    return cases_reconcile()
