"""E-mail measurement API: the monthly figures of an e-mail service (its owner and staff; another
customer's service is a 404), and the staff records behind them: mail platforms, customers' mail
domains (a customer reads their own), platform faults and adjustments (with an /end/ action) and
the monthly billing figures.

Reads come from mailservice.selectors, writes are one call of mailservice.services: bad input is
a 400 with field errors, a role that may not write a 403, a state that does not allow it a 409."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers.selectors import user_is_staff
from incidents.downtime import TZ
from settlement.choices import Verdict
from slaportal.api import ERRORS, DetailSerializer, IsStaff, get_scoped_or_404
from slaportal.api import validated_input as _valid

from .. import selectors, services
from ..models import BillingErrorFigure, MailDomain, PlatformEvent
from .serializers import (
    BillingInputSerializer,
    BillingOutputSerializer,
    DeleteInputSerializer,
    DomainFilterSerializer,
    DomainInputSerializer,
    DomainOutputSerializer,
    EventEndInputSerializer,
    EventFilterSerializer,
    EventInputSerializer,
    EventOutputSerializer,
    FiguresOutputSerializer,
    FiguresQuerySerializer,
    PlatformInputSerializer,
    PlatformOutputSerializer,
)

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="Not in your scope.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer, description="Other records still refer to it, or "
                                                               "its state does not allow this.")}


def _require_editor(user: Any) -> None:
    """Refuse a customer user before reading the body (the service refuses staff without the role)."""
    if not user_is_staff(user):
        raise PermissionDenied(_("Only staff can do this."))


# --- Monthly figures ---------------------------------------------------------------------------------

def _verdict(kept: bool | None) -> str:
    return Verdict.NOT_APPLICABLE if kept is None else (Verdict.MET if kept else Verdict.BREACHED)


class ServiceFiguresApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """E1 connectivity, E2 latency (per direction, histogram, daily) and the E3 operations figures
    of one e-mail service for one month, each with its verdict against the policy row."""

    permission_classes = [IsAuthenticated]
    serializer_class = FiguresOutputSerializer

    @extend_schema(operation_id="mail_service_figures", parameters=[FiguresQuerySerializer],
                   responses={200: FiguresOutputSerializer, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        service = get_scoped_or_404(selectors.email_services_visible(user=request.user), pk=pk)
        q = FiguresQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        first = q.validated_data.get("month") or timezone.localtime(timezone.now(), TZ).date().replace(day=1)
        fig = selectors.mail_month_figures(services=[service], year=first.year, month=first.month)[service.pk]
        body = {k: v for k, v in asdict(fig).items() if k not in ("measurements", "send", "receive", "daily")}
        body.update(service_id=fig.service_id, month=f"{first:%Y-%m}", send=fig.send, receive=fig.receive,
                    daily=[d._asdict() for d in fig.daily],
                    promises=[{"code": code, "value": m.value, "comparison": m.comparison, "threshold": m.threshold,
                               "unit": m.unit, "verdict": _verdict(m.kept), "counted": m.counted}
                              for code, m in sorted(fig.measurements.items())])
        return Response(FiguresOutputSerializer(body).data)


# --- Mail platforms ----------------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(operation_id="mail_platforms_list"),
                    post=extend_schema(operation_id="mail_platforms_create", request=PlatformInputSerializer,
                                       responses={201: PlatformOutputSerializer, **ERRORS}))
class PlatformCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """The provider's mail platforms (staff); engineers and managers add one."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = PlatformOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.mail_platforms(user=self.request.user)

    def post(self, request: Request) -> Response:
        data = _valid(PlatformInputSerializer, request)
        p = services.mail_platform_save(actor=request.user, data=data)
        return Response(PlatformOutputSerializer(p).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(operation_id="mail_platforms_retrieve", responses={200: PlatformOutputSerializer, **NOT_FOUND}),
    patch=extend_schema(operation_id="mail_platforms_update", request=PlatformInputSerializer,
                        responses={200: PlatformOutputSerializer, **ERRORS, **NOT_FOUND}),
    delete=extend_schema(operation_id="mail_platforms_delete", request=DeleteInputSerializer,
                         responses={204: None, **ERRORS, **NOT_FOUND, **CONFLICT}))
class PlatformDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """One platform: read, change (engineers and managers), delete while nothing refers to it."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = PlatformOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.mail_platforms(user=self.request.user)

    def get(self, request: Request, pk: int) -> Response:
        return Response(PlatformOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        p = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(PlatformInputSerializer, request, partial=True)
        p = services.mail_platform_save(actor=request.user, data=data, platform=p)
        return Response(PlatformOutputSerializer(p).data)

    def delete(self, request: Request, pk: int) -> Response:
        p = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(DeleteInputSerializer, request)
        services.mail_platform_delete(actor=request.user, platform_id=p.pk, reason=data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Mail domains ------------------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(operation_id="mail_domains_list", parameters=[DomainFilterSerializer]),
                    post=extend_schema(operation_id="mail_domains_create", request=DomainInputSerializer,
                                       responses={201: DomainOutputSerializer, **ERRORS}))
class DomainCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Mail domains: a customer user reads their own, staff all; engineers and managers add one."""

    permission_classes = [IsAuthenticated]
    serializer_class = DomainOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return MailDomain.objects.none()
        f = DomainFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        qs = selectors.mail_domains_visible(user=self.request.user)
        if f.validated_data.get("service"):
            qs = qs.filter(service_id=f.validated_data["service"])
        if f.validated_data.get("platform"):
            qs = qs.filter(platform_id=f.validated_data["platform"])
        return qs.order_by("domain")

    def post(self, request: Request) -> Response:
        _require_editor(request.user)
        data = _valid(DomainInputSerializer, request)
        d = services.mail_domain_save(actor=request.user, service=data.pop("service"), data=data)
        return Response(DomainOutputSerializer(d).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(operation_id="mail_domains_retrieve", responses={200: DomainOutputSerializer, **NOT_FOUND}),
    patch=extend_schema(operation_id="mail_domains_update", request=DomainInputSerializer,
                        responses={200: DomainOutputSerializer, **ERRORS, **NOT_FOUND}),
    delete=extend_schema(operation_id="mail_domains_delete", request=DeleteInputSerializer,
                         responses={204: None, **ERRORS, **NOT_FOUND, **CONFLICT}))
class DomainDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """One mail domain; a domain that has measured latency is kept (409 on delete)."""

    permission_classes = [IsAuthenticated]
    serializer_class = DomainOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return MailDomain.objects.none()
        return selectors.mail_domains_visible(user=self.request.user)

    def get(self, request: Request, pk: int) -> Response:
        return Response(DomainOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        d = get_scoped_or_404(self.get_queryset(), pk=pk)
        _require_editor(request.user)
        data = _valid(DomainInputSerializer, request, partial=True)
        service = data.pop("service", d.service)
        d = services.mail_domain_save(actor=request.user, service=service, data=data, domain=d)
        return Response(DomainOutputSerializer(d).data)

    def delete(self, request: Request, pk: int) -> Response:
        d = get_scoped_or_404(self.get_queryset(), pk=pk)
        _require_editor(request.user)
        data = _valid(DeleteInputSerializer, request)
        services.mail_domain_delete(actor=request.user, domain_id=d.pk, reason=data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Platform faults and adjustments -----------------------------------------------------------------

@extend_schema_view(get=extend_schema(operation_id="mail_platform_events_list", parameters=[EventFilterSerializer]),
                    post=extend_schema(operation_id="mail_platform_events_create", request=EventInputSerializer,
                                       responses={201: EventOutputSerializer, **ERRORS}))
class EventCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Faults and adjustments of the mail platforms (staff), newest first; engineers and managers
    record one. A change reaching a closed month re-judges it."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = EventOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return PlatformEvent.objects.none()
        f = EventFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        month = f.validated_data.get("month")
        return selectors.platform_events(platform_id=f.validated_data.get("platform"),
                                         year=month.year if month else None, month=month.month if month else None,
                                         kind=f.validated_data.get("kind"))

    def post(self, request: Request) -> Response:
        data = _valid(EventInputSerializer, request)
        ev = services.platform_event_save(actor=request.user, data=data)
        return Response(EventOutputSerializer(ev).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(operation_id="mail_platform_events_retrieve",
                      responses={200: EventOutputSerializer, **NOT_FOUND}),
    patch=extend_schema(operation_id="mail_platform_events_update", request=EventInputSerializer,
                        responses={200: EventOutputSerializer, **ERRORS, **NOT_FOUND}),
    delete=extend_schema(operation_id="mail_platform_events_delete", request=DeleteInputSerializer,
                         responses={204: None, **ERRORS, **NOT_FOUND}))
class EventDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """One fault or adjustment: read, correct, delete with a reason (engineers and managers)."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = EventOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.platform_events()

    def get(self, request: Request, pk: int) -> Response:
        return Response(EventOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        ev = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(EventInputSerializer, request, partial=True)
        ev = services.platform_event_save(actor=request.user, data=data, event=ev)
        return Response(EventOutputSerializer(ev).data)

    def delete(self, request: Request, pk: int) -> Response:
        ev = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(DeleteInputSerializer, request)
        services.platform_event_delete(actor=request.user, event_id=ev.pk, reason=data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(post=extend_schema(operation_id="mail_platform_events_end", request=EventEndInputSerializer,
                                       responses={200: EventOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}))
class EventEndApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """End a fault or an adjustment that is still going on (409 when it has already ended)."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = EventOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.platform_events()

    def post(self, request: Request, pk: int) -> Response:
        ev = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(EventEndInputSerializer, request)
        ev = services.platform_event_end(actor=request.user, event_id=ev.pk, ended_at=data["ended_at"],
                                         note=data["note"])
        return Response(EventOutputSerializer(ev).data)


# --- Billing figures ---------------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(operation_id="mail_billing_figures_list"),
                    post=extend_schema(operation_id="mail_billing_figures_save", request=BillingInputSerializer,
                                       responses={201: BillingOutputSerializer, **ERRORS}))
class BillingCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """The monthly billing figures (staff); a manager enters a month's (again: corrects it)."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = BillingOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.billing_figures()

    def post(self, request: Request) -> Response:
        if not services.user_may_enter_billing(request.user):
            raise PermissionDenied(_("Only a manager can enter the billing figures."))
        data = _valid(BillingInputSerializer, request)
        fig = services.billing_figure_save(actor=request.user, **data)
        return Response(BillingOutputSerializer(fig).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(operation_id="mail_billing_figures_retrieve",
                      responses={200: BillingOutputSerializer, **NOT_FOUND}),
    patch=extend_schema(operation_id="mail_billing_figures_update", request=BillingInputSerializer,
                        responses={200: BillingOutputSerializer, **ERRORS, **NOT_FOUND}))
class BillingDetailApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """One month's billing figures: read, correct (managers; the month itself does not change)."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = BillingOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.billing_figures()

    def get(self, request: Request, pk: int) -> Response:
        return Response(BillingOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        fig: BillingErrorFigure = get_scoped_or_404(self.get_queryset(), pk=pk)
        if not services.user_may_enter_billing(request.user):
            raise PermissionDenied(_("Only a manager can enter the billing figures."))
        data = _valid(BillingInputSerializer, request, partial=True)
        data.pop("month", None)
        fig = services.billing_figure_save(
            actor=request.user, month=fig.month, customers_billed=data.get("customers_billed", fig.customers_billed),
            customers_with_error=data.get("customers_with_error", fig.customers_with_error), note=data.get("note"))
        return Response(BillingOutputSerializer(fig).data)

