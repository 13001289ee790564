"""Notifications API: the attempt log, for staff with the permission to read it. Customer users
are refused (403): the log spans every customer and carries no customer key to scope by."""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated

from notifications import selectors
from notifications.choices import Channel, Status
from notifications.models import Notification
from slaportal.api import FilterSet, StaffNeedsViewPerm

from .serializers import NotificationOutputSerializer


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
