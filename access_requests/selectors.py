"""Reads of the machine-room visit workflow, scoped by tenant in one place (customers.selectors),
and the one rule for who may see a full ID number."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from customers.choices import Role
from customers.selectors import scope_for_user, user_roles

from .choices import DOOR_STATES, ESCORT_BUSY_STATES, UPCOMING_STATES, VisitState
from .models import Room, Visit, Visitor


def is_security(user: Any) -> bool:
    """Security at the door is the data-centre staff role (a group membership, not superuser
    status: least privilege for the full ID numbers)."""
    return Role.DC_STAFF in user_roles(user)


def may_see_full_id(user: Any, visit: Visit) -> bool:
    """The full ID number is shown only to security, only while the visit can be checked in
    (or is inside), so they can compare it with the document at the door."""
    return is_security(user) and visit.state in DOOR_STATES


def visit_list(
    *, user: Any, state: str | None = None, room_id: int | None = None, customer_id: int | None = None,
    date_from: date | None = None, date_to: date | None = None, q: str | None = None,
    flagged: bool | None = None,
) -> models.QuerySet[Visit]:
    """Visits the user may see (their own customer's, or all for staff), filtered."""
    qs = scope_for_user(Visit.objects.all(), user).select_related(
        "customer", "room__data_centre", "escort")
    if state:
        qs = qs.filter(state=state)
    if room_id:
        qs = qs.filter(room_id=room_id)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if date_from:
        qs = qs.filter(expected_entry_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(expected_entry_at__lt=_day_start(date_to + timedelta(days=1)))
    if q:
        q = q.strip()
        qs = qs.filter(Q(number__iexact=q) | Q(Exists(
            Visitor.objects.filter(visit_id=OuterRef("pk"), name__icontains=q))))
    if flagged is not None:
        cond = Q(overstay_flagged_at__isnull=False) | Q(open_at_day_end_flagged_at__isnull=False)
        qs = qs.filter(cond) if flagged else qs.exclude(cond)
    return qs.order_by("expected_entry_at", "id")


def visit_get(*, user: Any, pk: int) -> Visit:
    """One visit or Visit.DoesNotExist (a 404) — also for another customer's visit."""
    return visit_list(user=user).prefetch_related("visitors").get(pk=pk)


def door_lookup(*, user: Any, q: str, now: datetime | None = None) -> models.QuerySet[Visit]:
    """At the door: visits that can be checked in or are inside, by booking number or by the
    name of a visitor on the booking."""
    if not q.strip():
        return Visit.objects.none()
    return visit_list(user=user, q=q).filter(state__in=DOOR_STATES).prefetch_related("visitors")


def escort_overlaps(*, escort_id: int, start: datetime, end: datetime,
                    exclude_pk: int | None = None) -> models.QuerySet[Visit]:
    """Other visits the same escort is already committed to whose time overlaps [start, end)."""
    qs = Visit.objects.filter(escort_id=escort_id, state__in=ESCORT_BUSY_STATES,
                              expected_entry_at__lt=end, expected_exit_at__gt=start)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("expected_entry_at")


def escort_candidates() -> models.QuerySet[Any]:
    """Staff who may escort visitors: data-centre staff, engineers and managers."""
    return (get_user_model().objects.filter(
        is_active=True, groups__name__in=[Role.DC_STAFF, Role.ENGINEER, Role.MANAGER])
        .distinct().order_by("username"))


def room_list() -> models.QuerySet[Room]:
    return Room.objects.filter(active=True, data_centre__active=True).select_related("data_centre")


@dataclass
class RoomSchedule:
    room: Room
    days: dict[date, list[Visit]] = field(default_factory=dict)


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def visit_schedule(*, user: Any, start: date, days: int = 7, room_id: int | None = None
                   ) -> tuple[list[date], list[RoomSchedule], set[int]]:
    """The staff calendar: for each room, the upcoming visits of each day from `start`; and
    the ids of visits whose escort is booked twice at overlapping times."""
    day_list = [start + timedelta(days=i) for i in range(days)]
    qs = visit_list(user=user, room_id=room_id, date_from=start,
                    date_to=start + timedelta(days=days - 1)).filter(state__in=UPCOMING_STATES)
    rooms: dict[int, RoomSchedule] = {}
    for r in room_list() if room_id is None else room_list().filter(pk=room_id):
        rooms[r.pk] = RoomSchedule(room=r, days={d: [] for d in day_list})
    by_escort: dict[int, list[Visit]] = defaultdict(list)
    for v in qs.prefetch_related(Prefetch("visitors", queryset=Visitor.objects.order_by("id"))):
        sched = rooms.setdefault(v.room_id, RoomSchedule(room=v.room, days={d: [] for d in day_list}))
        sched.days.setdefault(timezone.localtime(v.expected_entry_at).date(), []).append(v)
        if v.escort_id and v.state in ESCORT_BUSY_STATES:
            by_escort[v.escort_id].append(v)
    clashes: set[int] = set()
    for visits in by_escort.values():
        visits.sort(key=lambda x: x.expected_entry_at)
        for i, a in enumerate(visits):
            for b in visits[i + 1:]:
                if b.expected_entry_at >= a.expected_exit_at:
                    break
                clashes.update((a.pk, b.pk))
    return day_list, list(rooms.values()), clashes


def visit_log(*, user: Any, date_from: date | None = None, date_to: date | None = None,
              customer_id: int | None = None, room_id: int | None = None) -> models.QuerySet[Visitor]:
    """The visit log, one row per visitor: who, with whom (escort), when in, when out, what was
    done. Only the masked ID number is ever read from here."""
    visits = visit_list(user=user, date_from=date_from, date_to=date_to, customer_id=customer_id,
                        room_id=room_id)
    return (Visitor.objects.filter(visit__in=visits.values("pk"))
            .select_related("visit__customer", "visit__room__data_centre", "visit__escort")
            .defer("id_number")
            .order_by("visit__expected_entry_at", "visit_id", "id"))


def _today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Today in Asia/Shanghai, as [start, end) aware datetimes."""
    today = timezone.localdate(now or timezone.now())
    return _day_start(today), _day_start(today + timedelta(days=1))


def _with_visitors(qs: models.QuerySet[Visit]) -> models.QuerySet[Visit]:
    # Only the masked ID number is read on these lists.
    return qs.prefetch_related(Prefetch("visitors", queryset=Visitor.objects.defer("id_number").order_by("id")))


def visits_expected_today(*, user: Any, now: datetime | None = None) -> models.QuerySet[Visit]:
    """Approved visits whose booked time [expected entry, expected exit) overlaps today and that
    nobody has checked in yet: who is still to arrive today, soonest first."""
    start, end = _today_bounds(now)
    return _with_visitors(visit_list(user=user).filter(
        state=VisitState.APPROVED, expected_entry_at__lt=end, expected_exit_at__gt=start))


def visits_awaiting_approval(*, user: Any) -> models.QuerySet[Visit]:
    """Requested visits waiting for a decision, the soonest entry first."""
    return _with_visitors(visit_list(user=user).filter(state=VisitState.REQUESTED))


def visits_inside(*, user: Any) -> models.QuerySet[Visit]:
    """Visits with someone checked in and not yet out, whatever day they entered; longest inside
    first."""
    return _with_visitors(visit_list(user=user).filter(state=VisitState.CHECKED_IN)
                          .order_by("checked_in_at", "id"))


def door_expected_today(*, user: Any, now: datetime | None = None) -> models.QuerySet[Visit]:
    """The door's default list: visits that can be checked in or are inside and whose booked
    time overlaps today, plus anyone still inside from an earlier day."""
    start, end = _today_bounds(now)
    return _with_visitors(visit_list(user=user).filter(
        Q(state__in=DOOR_STATES, expected_entry_at__lt=end, expected_exit_at__gt=start)
        | Q(state=VisitState.CHECKED_IN)))


@dataclass
class DcStaffDashboard:
    arrivals: list[Visit]
    arrivals_count: int
    pending: list[Visit]
    pending_count: int
    inside: list[Visit]
    inside_count: int


DASHBOARD_LIMIT = 50


def dc_staff_dashboard(*, user: Any, now: datetime | None = None, limit: int = DASHBOARD_LIMIT) -> DcStaffDashboard:
    """The data-centre staff home: today's arrivals, visits awaiting approval and who is inside
    now, each cut at `limit` rows (with the full counts)."""
    arrivals = visits_expected_today(user=user, now=now)
    pending = visits_awaiting_approval(user=user)
    inside = visits_inside(user=user)
    return DcStaffDashboard(
        arrivals=list(arrivals[:limit]), arrivals_count=arrivals.count(),
        pending=list(pending[:limit]), pending_count=pending.count(),
        inside=list(inside[:limit]), inside_count=inside.count())
