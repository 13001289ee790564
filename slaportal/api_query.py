"""Query parameters every API endpoint has: `?format=` (content negotiation) and `?page=` /
`?page_size=` (pagination). Their classes are named in REST_FRAMEWORK and imported by DRF while
rest_framework.views itself is being imported, so this module imports no DRF views (and nothing
that does): slaportal.api, which does, would be a circular import."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from slaportal import paging

# Primary keys are BigAutoField: a positive 64-bit integer.
ID_MAX = 2**63 - 1


class ContentNegotiation(DefaultContentNegotiation):
    """`?format=` naming a format the endpoint does not have is a 400 on that parameter (DRF
    answers 404, as if the resource were missing)."""

    def filter_renderers(self, renderers: Any, format: str) -> Any:
        found = [r for r in renderers if r.format == format]
        if not found:
            formats = ", ".join(sorted({r.format for r in renderers if r.format != "api"}))
            raise exceptions.ValidationError(
                {"format": [_("Unknown format; this endpoint has: %(formats)s.") % {"formats": formats}]})
        return found


class PageNumberPagination(pagination.PageNumberPagination):
    """Keyset pagination with the page-number parameters kept: `?page_size=` (1 to 200, default
    50), `?cursor=` (from a `next`, `previous` or `last` link: the same cost at any depth) and
    `?page=` (from 1, by offset; deep pages cost more, so links never use it beyond the first
    page). The count is exact up to slaportal.paging.COUNT_EXACT_LIMIT rows, an estimate above
    (`count_is_estimate`). A value out of range or a cursor this list did not make is a 400 on
    that parameter, never an empty 404. A queryset keyset paging cannot follow (values(),
    grouped) is paged by page number as before."""

    page_size_query_param = "page_size"
    cursor_query_param = "cursor"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return int(self.page_size or 50)
        if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError({self.page_size_query_param: [
                _("A page size is a whole number from 1 to %(max)s.") % {"max": self.max_page_size}]})
        return int(raw)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        raw = request.query_params.get(self.page_query_param, "1") or "1"
        is_number = re.fullmatch(r"[0-9]{1,30}", raw) is not None and int(raw) >= 1
        if not (is_number or raw in self.last_page_strings):
            raise exceptions.ValidationError({self.page_query_param: [
                _("A page number is a whole number from 1.")]})
        self.keyset = paging.keyset_for(queryset)
        if self.keyset is None:
            self.info = None
            return self._paginate_by_number(queryset, request, view, raw)
        self.request = request
        size = self.get_page_size(request)
        cursor = None
        raw_cursor = request.query_params.get(self.cursor_query_param)
        if raw_cursor:
            try:
                cursor = paging.read_cursor(self.keyset, raw_cursor)
            except paging.CursorError:
                raise exceptions.ValidationError({self.cursor_query_param: [
                    _("This cursor is not one of this list's links (or the list's order changed); "
                      "start again from the first page.")]}) from None
        elif raw in self.last_page_strings:
            cursor = paging.Cursor("l", None, 0)
        offset_page = int(raw) if cursor is None and is_number and int(raw) <= 10**12 else None
        if is_number and offset_page is None and cursor is None:
            offset_page = 10**12
        self.info = paging.page_of(queryset, page_size=size, cursor=cursor, keyset=self.keyset,
                                   offset_page=offset_page)
        if offset_page and offset_page > 1 and not self.info.rows:
            last = max(1, -(-self.info.count // size))
            raise exceptions.ValidationError({self.page_query_param: [
                _("There is no page %(page)s; the last page is %(last)s.") % {"page": raw, "last": last}]})
        return self.info.rows

    def _paginate_by_number(self, queryset: Any, request: Request, view: Any, raw: str) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            last = self.django_paginator_class(queryset, self.get_page_size(request)).num_pages
            raise exceptions.ValidationError({self.page_query_param: [
                _("There is no page %(page)s; the last page is %(last)s.") % {"page": raw, "last": last}]}
            ) from None

    def _link(self, cursor: str | None, *, first: bool = False) -> str | None:
        assert self.request is not None
        url = self.request.build_absolute_uri()
        url = remove_query_param(url, self.page_query_param)
        if first:
            return remove_query_param(url, self.cursor_query_param)
        if cursor is None:
            return None
        return replace_query_param(url, self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        info = self.info
        if info is None:
            assert self.page is not None and self.request is not None
            count = self.page.paginator.count
            return Response({
                "count": count, "count_is_estimate": False,
                "next": self.get_next_link(), "previous": self.get_previous_link(),
                "first": remove_query_param(self.request.build_absolute_uri(), self.page_query_param),
                "last": replace_query_param(self.request.build_absolute_uri(), self.page_query_param,
                                            self.page.paginator.num_pages),
                "results": data})
        return Response({
            "count": info.count,
            "count_is_estimate": info.count_is_estimate,
            "next": self._link(info.next_cursor),
            "previous": self._link(info.previous_cursor),
            "first": self._link(None, first=True),
            "last": self._link(info.last_cursor or self._last_cursor()),
            "results": data,
        })

    def _last_cursor(self) -> str:
        assert self.keyset is not None
        return paging.make_cursor(self.keyset, direction="l", values=None, position=0)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "next", "previous", "first", "last", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123, "description": (
                    "Rows in the list: exact up to 10,000, above that the database's estimate.")},
                "count_is_estimate": {"type": "boolean"},
                "next": {**link, "description": "The next page (a cursor link); null on the last page."},
                "previous": {**link, "description": "The previous page; null on the first page."},
                "first": {"type": "string", "format": "uri"},
                "last": {"type": "string", "format": "uri", "description": (
                    "The last page: the reversed order, so it costs what the first page costs.")},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for p in params:
            if p["name"] == self.page_query_param:
                p["schema"] = {"type": "integer", "minimum": 1}
                p["description"] = ("A page number, counted by offset: deep pages cost more. To page "
                                    "deep, follow the `next`, `previous` and `last` links (cursors).")
            elif p["name"] == self.page_size_query_param:
                p["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        params.append({
            "name": self.cursor_query_param, "required": False, "in": "query",
            "description": ("An opaque position in the list, from a `next`, `previous` or `last` "
                            "link; any page costs what the first costs."),
            "schema": {"type": "string"},
        })
        return params
