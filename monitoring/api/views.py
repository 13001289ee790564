"""Monitored targets API: scoped reads (another customer's target is a 404); creation by
engineers and managers through monitoring.services.target_save."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from slaportal.api import DetailSerializer

from ..selectors import target_list
from ..services import target_save
from .serializers import TargetCreateInputSerializer, TargetFilterSerializer, TargetOutputSerializer


@extend_schema_view(get=extend_schema(parameters=[TargetFilterSerializer]))
class TargetCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = TargetOutputSerializer

    def get_queryset(self) -> Any:
        f = TargetFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return target_list(user=self.request.user, state=f.validated_data.get("state"),
                           service_id=f.validated_data.get("service"))

    @extend_schema(operation_id="targets_create", request=TargetCreateInputSerializer,
                   responses={201: TargetOutputSerializer, 400: DetailSerializer, 403: DetailSerializer})
    def post(self, request: Request) -> Response:
        s = TargetCreateInputSerializer(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        service = data.pop("service")
        t = target_save(service=service, data=data, actor=request.user)
        return Response(TargetOutputSerializer(t).data, status=status.HTTP_201_CREATED)


class TargetDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = TargetOutputSerializer

    def get_queryset(self) -> Any:
        return target_list(user=self.request.user)
