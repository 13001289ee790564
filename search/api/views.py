"""GET /api/search/: the header box's search as JSON, scoped like the pages (search.selectors)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from slaportal.api import ERRORS

from ..selectors import search_all
from .serializers import SearchQuerySerializer, SearchResultSerializer


class SearchApi(APIView):
    """Complaints, incidents, operations, visits, customers and contacts matching `q`, grouped by
    kind. Only kinds the user may read are searched, and only within their scope; an empty `q`
    answers no groups. A `limit` or `kind` out of range, or an overlong `q`, is a 400."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[SearchQuerySerializer],
                   responses={200: SearchResultSerializer, **ERRORS})
    def get(self, request: Request) -> Response:
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        d = params.validated_data
        groups = search_all(user=request.user, q=d["q"], kinds=sorted(d.get("kind") or []) or None,
                            per_kind=d["limit"])
        return Response(SearchResultSerializer({"q": d["q"], "groups": groups}).data)
