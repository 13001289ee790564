"""Input and output shapes of the search API."""

from __future__ import annotations

from rest_framework import serializers

from ..choices import DEFAULT_PER_KIND, MAX_PER_KIND, MAX_QUERY_LENGTH, SearchKind


class SearchQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters: the text, how many hits per kind, and optionally which kinds."""

    q = serializers.CharField(required=False, allow_blank=True, default="", max_length=MAX_QUERY_LENGTH,
                              help_text="Number (or a part of it), title words, name, phone or e-mail.")
    limit = serializers.IntegerField(required=False, default=DEFAULT_PER_KIND, min_value=1,
                                     max_value=MAX_PER_KIND, help_text="Hits per kind at most.")
    kind = serializers.MultipleChoiceField(choices=SearchKind.choices, required=False,
                                           help_text="Only these kinds (repeat the parameter).")


class SearchHitSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.CharField()
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField(help_text="The page of the item.")


class SearchGroupSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=SearchKind.choices)
    kind_label = serializers.CharField(source="label", help_text="The kind's name in the user's language.")
    more = serializers.BooleanField(help_text="More hits than `limit` exist.")
    hits = SearchHitSerializer(many=True)


class SearchResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    q = serializers.CharField()
    groups = SearchGroupSerializer(many=True)
