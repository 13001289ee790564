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
    """`?page=` (from 1) and `?page_size=` (1 to 200, default 50). A page that is not a whole
    number from 1, or past the last page, and a page size out of range are a 400 on that
    parameter, never an empty 404."""

    page_size_query_param = "page_size"
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
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            last = self.django_paginator_class(queryset, self.get_page_size(request)).num_pages
            raise exceptions.ValidationError({self.page_query_param: [
                _("There is no page %(page)s; the last page is %(last)s.") % {"page": raw, "last": last}]}
            ) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for p in params:
            if p["name"] == self.page_query_param:
                p["schema"] = {"type": "integer", "minimum": 1}
            elif p["name"] == self.page_size_query_param:
                p["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params
