"""Sign-in API: exchange a user name and password for an expiring token, list and revoke one's
own tokens (another user's token id is a 404), and for managers the sign-in locks in force and
lifting one.

The token endpoint authenticates through django.contrib.auth with the underlying Django request,
so django-axes counts its failures together with the login page's and refuses a locked user name
or address (429, {"detail", "code": "login_locked_out"}), even with the right password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from slaportal.api import ERRORS, DetailSerializer, IsManager, get_scoped_or_404
from slaportal.api import validated_input as _valid
from slaportal.errors import DomainError

from .. import selectors, services
from ..lockout import locked_response_for
from ..models import ApiToken
from .serializers import (
    LockoutLiftInputSerializer,
    LockoutOutputSerializer,
    LockoutReleaseOutputSerializer,
    TokenObtainInputSerializer,
    TokenObtainOutputSerializer,
    TokenOutputSerializer,
)

LOCKED = {429: OpenApiResponse(DetailSerializer, description="Too many failed sign-ins: the user name "
                               "or the client address is locked for a while (see Retry-After); the "
                               "right password is refused too until then.")}
NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such token of yours.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer, description="The token was already revoked.")}


class TokenObtainApi(APIView):
    """Exchange a user name and password for an API token, sent as `Authorization: Token <key>`.
    The key is in this answer only; it expires at `expires_at` (API_TOKEN_TTL_HOURS) and its owner
    can revoke it. Each call issues a new token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="auth_token_create", request=TokenObtainInputSerializer,
                   responses={200: TokenObtainOutputSerializer,
                              400: OpenApiResponse(DetailSerializer, description="Wrong user name or "
                                                   "password (or bad input)."), **LOCKED})
    def post(self, request: Request) -> Any:
        data = _valid(TokenObtainInputSerializer, request)
        # The Django request, not DRF's wrapper: axes marks it, and AxesMiddleware reads the mark.
        django_request = request._request
        user = authenticate(django_request, username=data["username"], password=data["password"])
        if getattr(django_request, "axes_locked_out", False):
            return locked_response_for(django_request, {"username": data["username"]}, api=True)
        if user is None:
            raise DomainError(_("Unable to sign in with the user name and password given."),
                              code="invalid_credentials")
        services.login_failures_clear(username=user.get_username())
        token, key = services.token_create(user=user, name=data["name"])
        return Response(TokenObtainOutputSerializer(
            {"token": key, "expires_at": token.expires_at, "id": token.pk, "name": token.name}).data)


class _OwnTokenApi(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = TokenOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return selectors.token_list(user=self.request.user)


class TokenCollectionApi(generics.ListAPIView, _OwnTokenApi):  # type: ignore[type-arg]
    """Your own API tokens, newest first, with their state (active, expired, revoked). Never the
    keys themselves."""

    @extend_schema(operation_id="auth_tokens_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema_view(
    get=extend_schema(operation_id="auth_tokens_retrieve", responses={200: TokenOutputSerializer, **NOT_FOUND}),
    delete=extend_schema(operation_id="auth_tokens_destroy", responses={204: None, **NOT_FOUND, **CONFLICT}),
)
class TokenDetailApi(_OwnTokenApi):
    """GET: one of your tokens. DELETE: revoke it (the row stays, with revoked_at)."""

    def get(self, request: Request, pk: int) -> Response:
        return Response(TokenOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)

    def delete(self, request: Request, pk: int) -> Response:
        token = get_scoped_or_404(self.get_queryset(), pk=pk)
        services.token_revoke(token_id=token.pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeApi(_OwnTokenApi):
    """Revoke one of your tokens: from now on it is refused with 401."""

    @extend_schema(operation_id="auth_tokens_revoke", request=None,
                   responses={200: TokenOutputSerializer, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        token = get_scoped_or_404(self.get_queryset(), pk=pk)
        token = services.token_revoke(token_id=token.pk, actor=request.user)
        return Response(TokenOutputSerializer(token).data)


class LockoutCollectionApi(APIView):
    """Managers: every user name and client address whose sign-in is locked right now."""

    permission_classes = [IsAuthenticated, IsManager]

    @extend_schema(operation_id="auth_lockouts_list",
                   responses={200: LockoutOutputSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        return Response(LockoutOutputSerializer(selectors.lockout_list(), many=True).data)


class LockoutLiftApi(APIView):
    """Managers: lift a sign-in lock before its cool-off ends (audited). 409 when that lock is no
    longer in force."""

    permission_classes = [IsAuthenticated, IsManager]

    @extend_schema(operation_id="auth_lockouts_lift", request=LockoutLiftInputSerializer,
                   responses={200: LockoutReleaseOutputSerializer, **ERRORS,
                              409: OpenApiResponse(DetailSerializer, description="No such lock in force.")})
    def post(self, request: Request) -> Response:
        data = _valid(LockoutLiftInputSerializer, request)
        release = services.lockout_lift(actor=request.user, **data)
        return Response(LockoutReleaseOutputSerializer(release).data)
