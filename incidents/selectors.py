"""Reads of incidents and outages, scoped by tenant (customers.selectors)."""

from __future__ import annotations

from typing import Any

from django.db import models

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
    qs = FacilityEvent.objects.select_related("recorded_by", "cause_set_by").prefetch_related("scopes")
    if ongoing is True:
        qs = qs.filter(ended_at__isnull=True)
    elif ongoing is False:
        qs = qs.filter(ended_at__isnull=False)
    return qs.order_by("-started_at", "-id")
