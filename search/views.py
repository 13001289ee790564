"""The search page: the header's box submits here (GET /search/?q=…)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from slaportal.ui import text_param

from .choices import MAX_QUERY_LENGTH
from .selectors import search_all


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    """Results grouped by kind, each linking to its page; an empty (or overlong, or NUL-bearing)
    query shows an empty page with the box, never an error."""
    q = text_param(request, "q", label=_("Search"), max_length=MAX_QUERY_LENGTH)
    groups = search_all(user=request.user, q=q)
    return render(request, "search/search_results.html", {
        "q": q, "groups": [g for g in groups if g.hits], "searched": bool(q),
        "max_length": MAX_QUERY_LENGTH})
