"""Keyset (cursor) pagination and counts that do not scan, shared by the API
(slaportal.api_query) and the pages (`keyset_page`).

A page after (or before) a cursor is `WHERE (ordering columns) beyond the boundary row ...
ORDER BY ... LIMIT page_size + 1`: it costs the same on page 1 and on page 10,000. The last page
is the reversed ordering with the same LIMIT, reversed back. The ordering is the list's own
(any mix of ascending and descending fields, nullable or not), with the primary key appended as
the tie-breaker when it is not already last, so that a boundary is one row and no row is seen
twice or skipped.

A cursor is the boundary row's ordering values, the direction and the position of the page,
signed (django.core.signing) so that a hand-made or stale one is refused rather than run.

Counts: exact up to COUNT_EXACT_LIMIT rows, by a COUNT over a LIMITed subquery; above it, on
PostgreSQL, the planner's estimate of the list query (EXPLAIN, no scan), said to be one."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, models
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.db.models.query import ModelIterable
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

PAGE_SIZE = 50
# Up to this many rows a list's count is exact (a COUNT over at most this many + 1 rows); above
# it, an estimate where the database gives one cheaply (PostgreSQL), exact elsewhere.
COUNT_EXACT_LIMIT = 10_000
CURSOR_SALT = "slaportal.paging.cursor"


class CursorError(ValueError):
    """A cursor that was not made by this list (tampered, stale, or from another ordering)."""


# --- Counts ------------------------------------------------------------------------------------

def count_rows(qs: models.QuerySet[Any], *, limit: int | None = None) -> tuple[int, bool]:
    """(number of rows, whether it is an estimate). One query when the list is small (exact),
    two when it is large (the bounded count, then the planner's estimate). On PostgreSQL a list
    found large is remembered for a minute (per process): until then its count is the planner's
    estimate alone, one query that reads no rows, instead of counting the first `limit` + 1
    rows on every request; an estimate that falls to `limit` or below is counted again."""
    limit = COUNT_EXACT_LIMIT if limit is None else limit
    if connections[qs.db].vendor != "postgresql":
        bounded = qs.order_by()[: limit + 1].count()
        return (bounded, False) if bounded <= limit else (qs.count(), False)
    sql, params = qs.order_by().query.sql_with_params()
    key = (qs.db, sql, tuple(params), limit)
    now = time.monotonic()
    if _LARGE.get(key, 0.0) > now:
        estimate = _planner_rows(qs.db, sql, params)
        if estimate > limit:
            return estimate, True
    _LARGE.pop(key, None)
    bounded = qs.order_by()[: limit + 1].count()
    if bounded <= limit:
        return bounded, False
    if len(_LARGE) >= _LARGE_MAX:
        _LARGE.clear()
    _LARGE[key] = now + LARGE_REMEMBERED_SECONDS
    # The planner can be far off; never say fewer rows than we just saw exist.
    return max(_planner_rows(qs.db, sql, params), bounded), True


LARGE_REMEMBERED_SECONDS = 60.0
_LARGE_MAX = 1024
_LARGE: dict[tuple[Any, ...], float] = {}  # list (its SQL) -> until when it counts as large


def _planner_rows(alias: str, sql: str, params: Any) -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# --- Ordering keys -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One column of the ordering: what to filter and order on, how to read it from a row."""

    name: str            # a lookup path or an alias of the queryset
    desc: bool
    nullable: bool
    nulls_high: bool     # NULL sorts after every value in ascending order
    attr: str            # attribute of a row instance holding the value
    field: Any = None    # for to_python() of a cursor value

    @property
    def signature(self) -> str:
        return ("-" if self.desc else "") + self.name

    def order(self, *, reverse: bool = False) -> OrderBy:
        desc = self.desc != reverse
        expr = F(self.name)
        if not self.nullable:
            return expr.desc() if desc else expr.asc()
        # NULLs stay where they are in value order, so a reversed list is exactly reversed.
        if desc:
            return expr.desc(nulls_first=True) if self.nulls_high else expr.desc(nulls_last=True)
        return expr.asc(nulls_last=True) if self.nulls_high else expr.asc(nulls_first=True)


@dataclass
class Keyset:
    queryset: models.QuerySet[Any]   # with the aliases the keys need, unordered
    keys: list[Key]

    @property
    def signature(self) -> list[str]:
        return [k.signature for k in self.keys]

    def ordered(self, *, reverse: bool = False) -> models.QuerySet[Any]:
        return self.queryset.order_by(*(k.order(reverse=reverse) for k in self.keys))

    def beyond(self, values: Sequence[Any], *, reverse: bool = False) -> Q | None:
        """Rows strictly after the boundary `values` in the ordering (before it if `reverse`);
        None when no row can be."""
        terms: list[Q] = []
        equal = Q()
        for key, value in zip(self.keys, values, strict=True):
            after = _after(key, value, desc=key.desc != reverse)
            if after is not None:
                terms.append(equal & after)
            equal &= _equal(key, value)
        if not terms:
            return None
        q = terms[0]
        for t in terms[1:]:
            q |= t
        first, v0 = self.keys[0], values[0]
        if not first.nullable and v0 is not None:
            # Redundant, but lets the database use a range scan on the first column's index.
            desc = first.desc != reverse
            q &= Q(**{f"{first.name}__{'lte' if desc else 'gte'}": v0})
        return q

    def values_of(self, row: Any) -> list[Any]:
        return [_read(row, k.attr) for k in self.keys]


def _read(row: Any, attr: str) -> Any:
    return row[attr] if isinstance(row, dict) else getattr(row, attr)


def _after(key: Key, value: Any, *, desc: bool) -> Q | None:
    greater = not desc  # strictly after = greater in value order when ascending
    if value is None:
        # NULL is the greatest (nulls_high) or the least value.
        if greater == key.nulls_high:
            return None
        return Q(**{f"{key.name}__isnull": False})
    q = Q(**{f"{key.name}__{'gt' if greater else 'lt'}": value})
    if key.nullable and greater == key.nulls_high:
        q |= Q(**{f"{key.name}__isnull": True})
    return q


def _equal(key: Key, value: Any) -> Q:
    if value is None:
        return Q(**{f"{key.name}__isnull": True})
    return Q(**{key.name: value})


def keyset_for(qs: models.QuerySet[Any]) -> Keyset | None:
    """The keys of `qs`'s ordering (its own, else the model's), the primary key appended; None
    for a queryset keyset paging cannot follow (values(), grouped, random or relation
    ordering, a union): those are paged by offset."""
    if not isinstance(qs, models.QuerySet):
        return None
    query = qs.query
    if (qs._iterable_class is not ModelIterable or query.is_sliced or query.combinator
            or query.group_by is not None or query.extra_order_by or query.distinct_fields):
        return None
    model = qs.model
    meta = model._meta
    ordering: list[Any] = list(query.order_by) if query.order_by else (
        list(meta.ordering) if query.default_ordering else [])
    nulls_high = connections[qs.db].vendor == "postgresql"
    keys: list[Key] = []
    aliases: dict[str, Any] = {}
    annotations = query.annotations
    for i, item in enumerate(ordering):
        desc = False
        expr: Any = item
        explicit_nulls: bool | None = None
        if isinstance(item, str):
            if item == "?" or "." in item:
                return None
            desc = item.startswith("-")
            path = item.lstrip("-+")
            if path in annotations:
                expr = F(path)
            else:
                key = _field_key(model, path, desc=desc, nulls_high=nulls_high, index=i)
                if key is None:
                    return None
                if key.attr.startswith("_keyset_"):
                    aliases[key.attr] = F(path)
                keys.append(key)
                continue
        if isinstance(expr, OrderBy):
            desc = expr.descending
            if expr.nulls_first or expr.nulls_last:
                explicit_nulls = bool(expr.nulls_last) != desc
            expr = expr.expression
        ref: str | None = expr.name if isinstance(expr, F) else None  # type: ignore[attr-defined]
        if ref is not None and ref not in annotations:
            key = _field_key(model, ref, desc=desc, nulls_high=nulls_high, index=i)
            if key is None:
                return None
            if explicit_nulls is not None:
                key = Key(key.name, key.desc, True, explicit_nulls, key.attr, key.field)
            if key.attr.startswith("_keyset_"):
                aliases[key.attr] = F(ref)
            keys.append(key)
            continue
        # An expression or an annotation: ordered and filtered through an alias of its own.
        alias = f"_keyset_{i}"
        aliases[alias] = expr
        try:
            output = (annotations[ref] if ref is not None else expr).output_field
        except Exception:  # noqa: BLE001 - no single output field: the value is used as given
            output = None
        keys.append(Key(alias, desc, True, nulls_high if explicit_nulls is None else explicit_nulls,
                        alias, output))
    pk_names = {"pk", meta.pk.name, meta.pk.attname}
    if not keys or keys[-1].name not in pk_names:
        desc = keys[-1].desc if keys else True
        keys.append(Key("pk", desc, False, nulls_high, meta.pk.attname, meta.pk))
    return Keyset(qs.annotate(**aliases) if aliases else qs, keys)


def _field_key(model: type[models.Model], path: str, *, desc: bool, nulls_high: bool, index: int) -> Key | None:
    parts = path.split("__")
    current = model
    nullable = False
    target: Any = None
    for n, part in enumerate(parts):
        meta = current._meta
        try:
            target = meta.pk if part == "pk" else meta.get_field(part)
        except FieldDoesNotExist:
            return None
        last = n == len(parts) - 1
        if target.is_relation:
            if last and not path.endswith("_id"):
                # Ordering by a relation orders by the related model's ordering: not followed.
                if part != getattr(target, "attname", None):
                    return None
            if not target.concrete or target.many_to_many or target.one_to_many:
                return None
            nullable = nullable or bool(target.null)
            if not last:
                current = target.related_model
        else:
            if not last:
                return None  # a transform (name__lower): not followed
            nullable = nullable or bool(getattr(target, "null", False))
    if not getattr(target, "concrete", False):
        return None
    local = len(parts) == 1
    attr = target.attname if local else f"_keyset_{index}"
    return Key(path, desc, nullable, nulls_high, attr, target)


# --- Cursors -----------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return {"s": str(value)}


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "dt":
            return dt.datetime.fromisoformat(raw)
        if tag == "d":
            return dt.date.fromisoformat(raw)
        if tag == "t":
            return dt.time.fromisoformat(raw)
        if tag == "td":
            return dt.timedelta(days=raw[0], seconds=raw[1], microseconds=raw[2])
        if tag == "dec":
            return Decimal(raw)
        if tag == "u":
            return uuid.UUID(raw)
        if tag == "s":
            return raw
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise CursorError("value")


def make_cursor(keyset: Keyset, *, direction: str, values: Sequence[Any] | None, position: int) -> str:
    payload = {"k": keyset.signature, "d": direction, "i": max(position, 0),
               "v": None if values is None else [_encode(v) for v in values]}
    token = signing.dumps(payload, salt=CURSOR_SALT, compress=True)
    # URL-safe already; the signature part keeps it opaque and unforgeable.
    return token


@dataclass(frozen=True)
class Cursor:
    direction: str           # "n" after the boundary, "p" before it, "l" the last page
    values: list[Any] | None
    position: int            # index (from 0) of the first row of the page that made it


def read_cursor(keyset: Keyset, raw: str) -> Cursor:
    """The cursor `raw`, checked against this list's ordering; CursorError if it does not fit."""
    if len(raw) > 4000:
        raise CursorError("length")
    try:
        payload = signing.loads(raw, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError, binascii.Error,
            base64.binascii.Error) as e:  # type: ignore[attr-defined]
        raise CursorError("signature") from e
    if not isinstance(payload, dict) or payload.get("k") != keyset.signature:
        raise CursorError("ordering")
    direction, position, raw_values = payload.get("d"), payload.get("i"), payload.get("v")
    if direction not in ("n", "p", "l") or not isinstance(position, int) or position < 0:
        raise CursorError("direction")
    if direction == "l":
        return Cursor("l", None, position)
    if not isinstance(raw_values, list) or len(raw_values) != len(keyset.keys):
        raise CursorError("values")
    values = []
    try:
        for key, v in zip(keyset.keys, raw_values, strict=True):
            value = _decode(v)
            if value is not None and key.field is not None and hasattr(key.field, "to_python"):
                value = key.field.to_python(value)
            if value is None and not key.nullable:
                raise CursorError("null")
            values.append(value)
    except (ValidationError, ValueError, TypeError, OverflowError) as e:
        raise CursorError("value") from e
    return Cursor(direction, values, position)


# --- A page ------------------------------------------------------------------------------------

@dataclass
class PageInfo:
    """One page of a list: its rows and where the links go (cursors; None where there is no
    such page)."""

    rows: list[Any]
    count: int
    count_is_estimate: bool
    page_size: int
    start: int                      # index (from 0) of the first row
    next_cursor: str | None = None
    previous_cursor: str | None = None
    last_cursor: str | None = None
    has_previous: bool = False
    is_first: bool = True

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def page_of(qs: models.QuerySet[Any], *, page_size: int, cursor: Cursor | None = None,
            keyset: Keyset | None = None, offset_page: int | None = None) -> PageInfo:
    """The page of `qs` at `cursor` (None: the first page; `offset_page`: the old ?page=N, by
    offset, whose links are cursors all the same). Two queries: the count and the rows."""
    keyset = keyset or keyset_for(qs)
    if keyset is None:
        raise ValueError("queryset cannot be paged by keyset")
    count, estimate = count_rows(qs)
    size = page_size
    direction = cursor.direction if cursor else "f"
    if cursor is None and offset_page and offset_page > 1:
        start = (offset_page - 1) * size
        rows = list(keyset.ordered()[start:start + size + 1])
        has_prev, more = True, len(rows) > size
        rows = rows[:size]
    elif cursor is None:
        start = 0
        rows = list(keyset.ordered()[:size + 1])
        has_prev, more = False, len(rows) > size
        rows = rows[:size]
    elif cursor.direction == "n":
        assert cursor.values is not None
        start = cursor.position
        cond = keyset.beyond(cursor.values)
        rows = [] if cond is None else list(keyset.ordered().filter(cond)[:size + 1])
        has_prev, more = True, len(rows) > size
        rows = rows[:size]
    else:
        # "p" (the page before the boundary) and "l" (the last page): the reversed ordering,
        # LIMIT, reversed back.
        if cursor.direction == "p":
            assert cursor.values is not None
            cond = keyset.beyond(cursor.values, reverse=True)
            rev = [] if cond is None else list(keyset.ordered(reverse=True).filter(cond)[:size + 1])
        else:
            rev = list(keyset.ordered(reverse=True)[:size + 1])
        has_prev = len(rev) > size
        rows = rev[:size][::-1]
        more = cursor.direction == "p"
        if cursor.direction == "p":
            start = cursor.position - len(rows) if has_prev else 0
        else:
            start = count - len(rows) if has_prev else 0
        start = max(start, 0)
    info = PageInfo(rows=rows, count=count, count_is_estimate=estimate, page_size=size, start=start,
                    has_previous=has_prev, is_first=not has_prev)
    if rows and more:
        info.next_cursor = make_cursor(keyset, direction="n", values=keyset.values_of(rows[-1]),
                                       position=start + len(rows))
    if has_prev:
        if rows:
            info.previous_cursor = make_cursor(keyset, direction="p", values=keyset.values_of(rows[0]),
                                               position=start)
        elif direction != "l":
            info.previous_cursor = make_cursor(keyset, direction="l", values=None, position=0)
    if direction != "l" and (more or has_prev):
        info.last_cursor = make_cursor(keyset, direction="l", values=None, position=0)
    return info


# --- The pages (HTML) --------------------------------------------------------------------------

class _Counter:
    """What templates and tests read of a Django Paginator (`page.paginator.count`, `num_pages`)."""

    def __init__(self, count: int, per_page: int) -> None:
        self.count = count
        self.per_page = per_page

    @property
    def num_pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))


class KeysetPage(Sequence[Any]):
    """A page of a list page: iterable like a Django Page (`object_list`), with the links of
    templates/_pagination.html (`first_url`, `previous_url`, `next_url`, `last_url`) and the
    rows shown (`start_index`, `end_index`, `total`, `count_display`, `count_is_estimate`)."""

    keyset = True

    def __init__(self, info: PageInfo, *, base: QueryDict, param: str) -> None:
        self.info = info
        self.object_list: list[Any] = info.rows
        self.paginator = _Counter(info.count, info.page_size)
        self.total = info.count
        self.count_is_estimate = info.count_is_estimate
        self._base = base
        self._param = param
        self.first_url = self._url("") if info.has_previous else None
        self.previous_url = self._url(info.previous_cursor)
        self.next_url = self._url(info.next_cursor)
        self.last_url = self._url(info.last_cursor)

    def _url(self, cursor: str | None) -> str | None:
        """The link to the page at `cursor` ("": the first page), keeping the filters."""
        if cursor is None:
            return None
        q = self._base.copy()
        if cursor:
            q[self._param] = cursor
        return "?" + q.urlencode()

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index: Any) -> Any:
        return self.object_list[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    @property
    def count_display(self) -> str:
        return f"{self.total:,}"

    @property
    def start_index(self) -> int:
        return self.info.start + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return self.info.start + len(self.object_list)

    @property
    def number(self) -> int:
        """The page's number as if paged by offset (for old readers of a Django Page)."""
        return self.info.start // self.info.page_size + 1

    def has_other_pages(self) -> bool:
        return self.info.has_previous or self.info.has_next

    def has_next(self) -> bool:
        return self.info.has_next

    def has_previous(self) -> bool:
        return self.info.has_previous


def keyset_page(request: HttpRequest, qs: Any, *, page_size: int = PAGE_SIZE, per_page: int | None = None,
                param: str = "cursor") -> Any:
    """The requested page of a list page's `qs`, by keyset (`?cursor=`); the old `?page=N`
    still works (by offset). A cursor that does not fit is ignored with a message (a list
    page never fails on its query string). A queryset keyset paging cannot follow (values(),
    grouped) gets Django's Paginator, as before."""
    from slaportal.ui import ignored_filter, paginate  # ui imports this module's users

    page_size = per_page or page_size
    keyset = keyset_for(qs) if isinstance(qs, models.QuerySet) else None
    if keyset is None:
        return paginate(request, qs, per_page=page_size)
    base = request.GET.copy()
    base.pop(param, None)
    raw_page = base.pop("page", [None])[-1]
    cursor = None
    raw = request.GET.get(param)
    if raw:
        try:
            cursor = read_cursor(keyset, raw)
        except CursorError:
            ignored_filter(request, _("Pages"), _("This page link is out of date; showing the first page."))
    offset_page = None
    if cursor is None and raw_page:
        if raw_page == "last":
            cursor = Cursor("l", None, 0)
        elif raw_page.isdigit() and 1 <= int(raw_page) <= 10**6:
            offset_page = int(raw_page)
    info = page_of(qs, page_size=page_size, cursor=cursor, keyset=keyset, offset_page=offset_page)
    if offset_page and offset_page > 1 and not info.rows:
        # Past the end (a bookmarked deep page): the last page, as Paginator.get_page did.
        info = page_of(qs, page_size=page_size, cursor=Cursor("l", None, 0), keyset=keyset)
    return KeysetPage(info, base=base, param=param)
