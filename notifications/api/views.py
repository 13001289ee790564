"""Notifications API: the attempt log, for staff with the permission to read it. Customer users
are refused (403): the log spans every customer and carries no customer key to scope by."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.choices import Channel, Status
from notifications.models import InboxItem, Notification
from slaportal.api import DetailSerializer, FilterSet, StaffNeedsViewPerm, StrictBooleanFilter

from .serializers import (
    InboxItemOutputSerializer,
    InboxReadAllOutputSerializer,
    InboxUnreadCountOutputSerializer,
    NotificationOutputSerializer,
)


class NotificationFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    kind = django_filters.CharFilter()

    class Meta:
        model = Notification
        fields = ["status", "channel", "kind"]


class NotificationListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Every notification attempt, newest first."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "notifications.view_notification"
    customers_allowed = False
    serializer_class = NotificationOutputSerializer
    filterset_class = NotificationFilter

    def get_queryset(self) -> Any:
        return selectors.notification_list(user=self.request.user)


class NotificationDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "notifications.view_notification"
    customers_allowed = False
    serializer_class = NotificationOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.notification_list(user=self.request.user)


# --- The in-app notification centre: every signed-in user (customers too), own items only ----

INBOX_NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such notification of yours.")}


class InboxFilter(FilterSet):
    unread = StrictBooleanFilter(field_name="read_at", lookup_expr="isnull",
                                 help_text="true: unread only; false: read only.")

    class Meta:
        model = InboxItem
        fields = ["unread"]


@extend_schema_view(get=extend_schema(operation_id="inbox_list"))
class InboxListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Your notifications, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = InboxItemOutputSerializer
    filterset_class = InboxFilter

    def get_queryset(self) -> Any:
        return selectors.inbox_list(user=self.request.user).prefetch_related("related")


class InboxUnreadCountApi(APIView):
    """How many of your notifications are unread (what the header's badge shows)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="inbox_unread_count", responses={200: InboxUnreadCountOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response({"unread": selectors.inbox_unread_count(user=request.user)})


class InboxReadApi(APIView):
    """Mark one of your notifications read (again: no change)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="inbox_read", request=None,
                   responses={200: InboxItemOutputSerializer, **INBOX_NOT_FOUND})
    def post(self, request: Request, pk: int) -> Response:
        try:
            item = services.inbox_item_mark_read(user=request.user, item_id=pk)
        except InboxItem.DoesNotExist:
            raise NotFound from None
        return Response(InboxItemOutputSerializer(item, context={"request": request}).data)


class InboxReadAllApi(APIView):
    """Mark all your notifications read."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="inbox_read_all", request=None,
                   responses={200: InboxReadAllOutputSerializer})
    def post(self, request: Request) -> Response:
        n = services.inbox_mark_all_read(user=request.user)
        return Response({"marked": n, "unread": selectors.inbox_unread_count(user=request.user)})
