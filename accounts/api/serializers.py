"""Input and output shapes of the sign-in API: tokens and (for managers) sign-in locks."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import serializers

from ..choices import LockoutKind, TokenState
from ..models import ApiToken, LockoutRelease


class TokenObtainInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                 help_text="What the token is for (shown in your token list).")


class TokenObtainOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    token = serializers.CharField(help_text="The key. Shown only here: it is not stored, only its hash.")
    expires_at = serializers.DateTimeField()
    id = serializers.IntegerField()
    name = serializers.CharField()


class TokenOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A token as its owner sees it: never the key, only its first characters."""

    state = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "state"]
        read_only_fields = fields

    def get_state(self, obj: ApiToken) -> TokenState:
        return obj.state(timezone.now())


class LockoutOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=LockoutKind.choices)
    value = serializers.CharField(help_text="The user name or the client IP address.")
    failures = serializers.IntegerField(help_text="Failed sign-ins counted in the cool-off window.")
    limit = serializers.IntegerField()
    last_failure_at = serializers.DateTimeField()
    locked_until = serializers.DateTimeField()


class LockoutLiftInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=LockoutKind.choices)
    value = serializers.CharField(max_length=255)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LockoutReleaseOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    released_by = serializers.SerializerMethodField()

    class Meta:
        model = LockoutRelease
        fields = ["id", "kind", "value", "failures", "locked_until", "released_by", "released_at", "reason"]
        read_only_fields = fields

    def get_released_by(self, obj: LockoutRelease) -> str:
        user: Any = obj.released_by
        return str(user.get_username())
