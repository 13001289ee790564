"""Thin tasks of the e-mail measurement app: load, call a service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="mailservice.tasks.backup_days_daily")
def backup_days_daily() -> dict[int, int]:
    """Shortly after midnight (Asia/Shanghai): judge yesterday's backups of every checked platform
    (and any day a missed night left unjudged)."""
    from .backups import backup_days_daily as run

    return run()
