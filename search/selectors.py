"""Free-text search: one query over complaints, incidents, operations, visits, customers and
authorized contacts, by number, title, name, phone or e-mail.

Tenant scoping is not done here: every kind starts from its own app's `*_list` selector (which
goes through customers.selectors.scope_for_user), so a customer user can only ever find their
own organisation's rows, and a staff user only the kinds their role may read (roles.py).

Matching is a case-insensitive substring (`icontains`) on every database. On PostgreSQL it is
served by the GIN trigram indexes of search/migrations/0001 (built on `UPPER(col::text)`, the
exact expression Django's `icontains` compares), which is what makes a fragment of a number or
a Chinese word in a title fast over 100,000 rows; on SQLite the same query is a plain scan."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import F, Func, Q, TextField
from django.db.models.lookups import IContains
from django.urls import reverse
from django.utils import formats, timezone

from access_requests.models import Visitor
from access_requests.selectors import visit_list
from complaints.selectors import complaint_list
from customers.selectors import contact_list, customer_list, user_customer_id, user_is_staff
from incidents.selectors import incident_list
from operations.selectors import operation_list

from .choices import DEFAULT_PER_KIND, MAX_QUERY_LENGTH, SearchKind

# See search_kind: up to this many matches are ordered in memory-sized sets by id.
CANDIDATES = 500
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]+")


def document_sql(columns: list[str], phone_columns: list[str]) -> str:
    """One text per row holding every searched column, and each phone column once more with its
    separators removed ("138-0013-8000" is also "13800138000"). search/migrations/0001 builds
    its GIN trigram index on UPPER() of exactly this SQL (with bare column names), so one index
    scan serves the whole OR of columns; keep the two in step (tests/search check the plan)."""
    pieces = [f"COALESCE({c}, '')" for c in columns + phone_columns]
    pieces += [f"REPLACE(REPLACE(COALESCE({c}, ''), '-', ''), ' ', '')" for c in phone_columns]
    return "(" + " || ' | ' || ".join(pieces) + ")"


class SearchDocument(Func):
    """The searched text of a row as an expression (see document_sql)."""

    output_field = TextField()

    def __init__(self, columns: tuple[str, ...], phone_columns: tuple[str, ...]) -> None:
        super().__init__(*(F(c) for c in columns + phone_columns))
        self.n_plain = len(columns)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        sqls: list[str] = []
        params: list[Any] = []
        for expr in self.get_source_expressions():
            sql, p = compiler.compile(expr)
            sqls.append(sql)
            params.extend(p)
        return document_sql(sqls[:self.n_plain], sqls[self.n_plain:]), params


@dataclass(frozen=True)
class SearchHit:
    """One thing found: what to show in the result list and where it links."""

    kind: str
    id: int
    number: str
    title: str
    detail: str
    url: str


@dataclass
class SearchGroup:
    """The hits of one kind (at most `per_kind`), and whether there were more."""

    kind: str
    label: str
    hits: list[SearchHit] = field(default_factory=list)
    more: bool = False


@dataclass(frozen=True)
class _Kind:
    perm: str | None  # a staff user needs it to read this kind (customer users are scoped instead)
    queryset: Callable[[Any], models.QuerySet[Any]]
    fields: tuple[str, ...]
    phone_fields: tuple[str, ...]
    order: tuple[str, ...]
    hit: Callable[[Any], SearchHit]
    extra: Callable[[str], Q] | None = None


def _when(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def _complaint_hit(c: Any) -> SearchHit:
    return SearchHit(SearchKind.COMPLAINT, c.pk, c.number or "", c.title,
                     f"{c.customer.name} · {c.get_state_display()} · {_when(c.received_at)}",
                     reverse("complaints:detail", args=[c.pk]))


def _incident_hit(i: Any) -> SearchHit:
    return SearchHit(SearchKind.INCIDENT, i.pk, i.number or "", i.title,
                     f"{i.customer.name} · {i.get_state_display()} · {_when(i.detected_at)}",
                     reverse("incidents:detail", args=[i.pk]))


def _operation_hit(o: Any) -> SearchHit:
    return SearchHit(SearchKind.OPERATION, o.pk, o.number or "", o.title,
                     f"{o.customer.name} · {o.get_state_display()} · {_when(o.requested_at)}",
                     reverse("operations:detail", args=[o.pk]))


def _visit_hit(v: Any) -> SearchHit:
    return SearchHit(SearchKind.VISIT, v.pk, v.number or "", v.contact_name,
                     f"{v.customer.name} · {v.get_state_display()} · {_when(v.expected_entry_at)}",
                     reverse("access_requests:detail", args=[v.pk]))


def _customer_hit(c: Any) -> SearchHit:
    return SearchHit(SearchKind.CUSTOMER, c.pk, c.code, c.name, c.address,
                     reverse("customers:detail", args=[c.pk]))


def _contact_hit(a: Any) -> SearchHit:
    reach = " · ".join(x for x in (a.mobile, a.office_phone, a.email) if x)
    # Contacts have no page of their own: they are listed on their customer's page.
    return SearchHit(SearchKind.CONTACT, a.pk, "", a.name, f"{a.customer.name} · {reach}",
                     reverse("customers:detail", args=[a.customer_id]))


def _visitor_named(q: str) -> Q:
    # A booking is also found by the name of a person on it (as at the door); never by an ID
    # number, which only security may see. The ids are fetched first (the visitor name's own
    # trigram index): an `id IN (…)` can join the document's index scan in one BitmapOr, where
    # an EXISTS in the OR would force a scan of every booking. Scoping is still the caller's.
    ids = list(Visitor.objects.filter(name__icontains=q).values_list("visit_id", flat=True)[:CANDIDATES])
    return Q(pk__in=ids)


KINDS: dict[str, _Kind] = {
    SearchKind.COMPLAINT: _Kind(
        "complaints.view_complaint", lambda u: complaint_list(user=u),
        ("number", "title", "complainant_name", "complainant_email"), ("complainant_phone",),
        ("-received_at", "-id"), _complaint_hit),
    SearchKind.INCIDENT: _Kind(
        None, lambda u: incident_list(user=u), ("number", "title"), (),
        ("-detected_at", "-id"), _incident_hit),
    SearchKind.OPERATION: _Kind(
        "operations.view_operationrequest", lambda u: operation_list(user=u),
        ("number", "title"), (), ("-requested_at", "-id"), _operation_hit),
    SearchKind.VISIT: _Kind(
        "access_requests.view_visit", lambda u: visit_list(user=u),
        ("number", "contact_name", "contact_email"), ("contact_phone",),
        ("-expected_entry_at", "-id"), _visit_hit, _visitor_named),
    SearchKind.CUSTOMER: _Kind(
        "customers.view_customer", lambda u: customer_list(user=u), ("name", "code"), (),
        ("name", "id"), _customer_hit),
    SearchKind.CONTACT: _Kind(
        "customers.view_authorizedcontact", lambda u: contact_list(user=u),
        ("name", "email"), ("mobile", "office_phone", "pager", "fax"), ("customer__name", "name", "id"),
        _contact_hit),
}


def may_search_kind(user: Any, kind: str) -> bool:
    """Least privilege inside the staff (as StaffNeedsViewPerm): a staff user searches a kind only
    with its view permission; a customer user searches every kind, scoped to their customer."""
    if user_is_staff(user):
        perm = KINDS[kind].perm
        return perm is None or bool(user.has_perm(perm))
    return user_customer_id(user) is not None


def _condition(spec: _Kind, q: str) -> Q:
    doc = SearchDocument(spec.fields, spec.phone_fields)
    cond = Q(IContains(doc, q))
    # A phone typed with separators ("138-0013 8000") is also looked for as bare digits, which
    # the document holds for every phone column.
    compact = _PHONE_PUNCTUATION.sub("", q)
    if spec.phone_fields and compact != q and compact.lstrip("+").isdigit() and len(compact) >= 3:
        cond |= Q(IContains(doc, compact))
    if spec.extra is not None:
        cond |= spec.extra(q)
    return cond


def search_kind(*, user: Any, kind: str, q: str, per_kind: int = DEFAULT_PER_KIND) -> SearchGroup:
    """The hits of one kind for `q`, newest (or alphabetically first) first."""
    spec = KINDS[kind]
    group = SearchGroup(kind=kind, label=str(SearchKind(kind).label))
    q = q.strip()
    if not q or not may_search_kind(user, kind):
        return group
    scoped = spec.queryset(user)
    matching = scoped.filter(_condition(spec, q))
    # Two steps, because of how PostgreSQL plans "newest first, LIMIT 7": it walks the date index
    # and filters each row, which is quick when matches are dense and reads most of the table
    # when they are rare (a number fragment at 100,000 complaints: 90 ms, against 5 ms here). So first collect the
    # matching ids with no order (the trigram indexes, or an early-stopping scan), at most
    # CANDIDATES of them; when that is all of them, order just those. Only a query matching more
    # than CANDIDATES rows takes the ordered walk, and there the matches are dense, so it stops early.
    ids = list(matching.order_by().values_list("pk", flat=True)[:CANDIDATES])
    if len(ids) < CANDIDATES:
        matching = scoped.filter(pk__in=ids)
    # One row more than shown tells whether the group has more, without a COUNT over the table.
    rows = list(matching.order_by(*spec.order)[:per_kind + 1])
    group.more = len(rows) > per_kind
    group.hits = [spec.hit(r) for r in rows[:per_kind]]
    return group


def search_all(*, user: Any, q: str, kinds: list[str] | None = None,
               per_kind: int = DEFAULT_PER_KIND) -> list[SearchGroup]:
    """Every kind the user may read, in display order; an empty query finds nothing (not
    everything). The query is cut to MAX_QUERY_LENGTH characters; callers validate it first."""
    q = q.strip()[:MAX_QUERY_LENGTH]
    if not q or "\x00" in q:
        return []
    wanted = kinds or list(SearchKind.values)
    return [search_kind(user=user, kind=k, q=q, per_kind=per_kind)
            for k in SearchKind.values if k in wanted and may_search_kind(user, k)]
