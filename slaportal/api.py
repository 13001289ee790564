"""API plumbing shared by every app: the exception handler that maps domain errors, the
permission classes, the scoped reference field.

A route is a plural noun; each HTTP method on it is one operation with its own input and output
serializers (HackSoft). Reads come from selectors scoped by request.user, so another customer's
object is a 404 from the queryset, never a 403. Writes go through services; a refused write
raises DomainError, which the handler below turns into 400/403/409."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff

from .errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": str(exc.message), "code": exc.code}
        # Model-level errors (clean() without a field, unique_together) come as "__all__".
        body.update({("non_field_errors" if k == "__all__" else k): [str(m) for m in v]
                     for k, v in exc.field_errors.items()})
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            data = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


M = TypeVar("M", bound=models.Model)


def get_scoped_or_404(qs: models.QuerySet[M], **lookup: Any) -> M:
    """One object of an already scoped queryset; anything outside the scope is a 404."""
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


class IsStaff(BasePermission):
    """Any staff role (or a superuser)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_is_staff(request.user)


class IsManager(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return user_has_role(request.user, Role.MANAGER)


class ManagerWrites(BasePermission):
    """Reads for whoever the view's other permissions admit; writes for managers only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or user_has_role(request.user, Role.MANAGER)


class StaffNeedsViewPerm(BasePermission):
    """Least privilege inside the staff: a staff user reads a model only with its view
    permission (roles.py), e.g. data-centre staff do not read contracts or credits. A customer
    user is let through; the scoped queryset limits them to their own customer. With
    `customers_allowed = False` on the view, customer users are refused (403)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user_is_staff(user):
            perm = getattr(view, "view_perm", None)
            return perm is None or user.has_perm(perm)
        return getattr(view, "customers_allowed", True) and user_customer_id(user) is not None


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField, Generic[M]):  # type: ignore[type-arg]
    """A reference in a request body, resolved through a selector scoped by the requesting
    user: another customer's id is 'does not exist' (400), exactly like an unknown id."""

    def __init__(self, *, selector: Any, **kwargs: Any) -> None:
        self.selector = selector
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return self.selector(user=getattr(request, "user", None))


class DetailSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The error body (for the schema): a message, a code and, for 400, one list per field."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


# The refusals every write endpoint can answer with, for the OpenAPI schema.
ERRORS = {
    400: OpenApiResponse(DetailSerializer, description="Bad input: one list of messages per field."),
    403: OpenApiResponse(DetailSerializer, description="The role does not allow this."),
}


def validated_input(serializer_class: Any, request: Request, **kwargs: Any) -> dict[str, Any]:
    """Parse a request body with an input serializer; bad input raises DRF's 400 with field errors."""
    s = serializer_class(data=request.data, context={"request": request}, **kwargs)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


class ReasonInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Input of a transition: why (kept in the audit trail)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
