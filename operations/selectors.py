"""Reads of the operation workflow, scoped by tenant in one place (customers.selectors)."""

from __future__ import annotations

from typing import Any

from django.db import models

from customers.selectors import scope_for_user, user_is_staff
from reports.choices import ReportKind
from reports.models import WrittenReport
from reports.services import reports_for

from .models import Authorization, OperationRequest, PhoneAttempt


def operation_list(*, user: Any, state: str | None = None,
                   customer_id: int | None = None) -> models.QuerySet[OperationRequest]:
    """Operation requests the user may see (another customer's are simply not there)."""
    qs = scope_for_user(OperationRequest.objects.all(), user).select_related(
        "customer", "service", "requested_by", "engineer")
    if state:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("-requested_at", "-id")


def operation_get(*, user: Any, pk: int) -> OperationRequest:
    """One operation or OperationRequest.DoesNotExist (a 404), also for another customer's."""
    return operation_list(user=user).get(pk=pk)


def authorization_list(*, user: Any, operation: OperationRequest) -> models.QuerySet[Authorization]:
    """The authorizations of an operation the caller already fetched through operation_list."""
    return scope_for_user(Authorization.objects.filter(operation=operation), user,
                          customer_field="operation__customer").select_related(
        "contact", "received_by", "decided_by", "phone_attempt", "corrects")


def phone_attempt_list(*, user: Any, operation: OperationRequest) -> models.QuerySet[PhoneAttempt]:
    """Every phone attempt of an operation: staff only (the log is the provider's evidence)."""
    if not user_is_staff(user):
        return PhoneAttempt.objects.none()
    return PhoneAttempt.objects.filter(operation=operation).select_related("contact", "engineer")


def operation_reports(*, user: Any, operation: OperationRequest) -> models.QuerySet[WrittenReport]:
    return scope_for_user(reports_for(operation), user).filter(kind=ReportKind.OPERATION)
