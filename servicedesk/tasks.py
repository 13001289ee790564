"""Thin tasks: read the service mailbox; send the renewal reminders. Both idempotent (Message-ID
and (contract, end, threshold) are unique)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="servicedesk.tasks.mailbox_read", ignore_result=True)
def mailbox_read() -> dict[str, int]:
    from .services import mailbox_read_once

    return mailbox_read_once()


@shared_task(name="servicedesk.tasks.renewal_reminders", ignore_result=True)
def renewal_reminders() -> int:
    from .services import renewal_reminders_run

    return len(renewal_reminders_run())
