"""Reads of monitored targets, scoped by tenant."""

from __future__ import annotations

from typing import Any

from django.db import models

from customers.selectors import scope_for_user

from .models import Mailbox, Target


def target_list(*, user: Any, service_id: int | None = None, state: str | None = None) -> models.QuerySet[Target]:
    qs = scope_for_user(Target.objects.select_related("service", "customer"), user)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if state:
        qs = qs.filter(state=state)
    return qs


def mailbox_list(*, user: Any, service_id: int | None = None) -> models.QuerySet[Mailbox]:
    """Probe mailboxes the user may see, with their service and checks (tenant-scoped)."""
    qs = scope_for_user(Mailbox.objects.select_related("service", "customer")
                        .prefetch_related("targets"), user)
    if service_id:
        qs = qs.filter(service_id=service_id)
    return qs
