"""Every write of the machine-room visit workflow. Each service locks the visit row, checks the
transition, saves, audits in the same transaction, and queues e-mail after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from audit.services import audit_record
from customers.choices import Language, Role
from customers.models import Customer
from customers.selectors import staff_users_with_role, user_customer_id, user_has_role, user_is_staff
from notifications.services import Message, as_attachment, notifications_enqueue
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from . import ics
from .choices import CANCELLABLE_STATES, VisitState
from .models import Room, Visit, Visitor
from .selectors import escort_overlaps, is_security

S = VisitState


def lead_time() -> timedelta:
    return timedelta(hours=float(getattr(settings, "VISIT_LEAD_TIME_HOURS", 24)))


def no_show_grace() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "VISIT_NO_SHOW_GRACE_MINUTES", 60)))


def id_retention() -> timedelta:
    return timedelta(days=float(getattr(settings, "VISIT_ID_RETENTION_DAYS", 90)))


def checkin_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SLAPORTAL_CHECKIN_WINDOW_MINUTES", 120)))


OVERRIDE_REASON_MAX_LENGTH = 500


def checkin_window_bounds(visit: Visit) -> tuple[datetime, datetime]:
    """The times a visitor may be checked in without an override: from the booked entry minus
    the window (inclusive) until the booked exit plus the window (exclusive). The booked time is
    the visit's [expected entry, expected exit); as with every deadline in the portal (SPEC,
    "Calendars and time"), "within N" means strictly before start + N, so at exit + window
    exactly the check-in already needs the override."""
    w = checkin_window()
    return visit.expected_entry_at - w, visit.expected_exit_at + w


def checkin_inside_window(visit: Visit, at: datetime) -> bool:
    earliest, latest = checkin_window_bounds(visit)
    return earliest <= at < latest


# The audit action of a check-in outside the window (label: access_requests.templatetags.visit_ui).
CHECK_IN_OVERRIDE = "check_in_override"


@dataclass
class VisitorInput:
    name: str
    id_type: str
    id_number: str
    phone: str = ""


def _actor(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_approver(actor: Any) -> None:
    """Data-centre staff and managers decide on visits and assign escorts."""
    if not user_has_role(actor, Role.DC_STAFF, Role.MANAGER):
        raise ForbiddenError(_("Only data-centre staff or a manager can do this."))


def _require_security(actor: Any) -> None:
    if not is_security(actor):
        raise ForbiddenError(_("Only data-centre security can check visitors in or out."))


def _validate_visitors(visitors: list[VisitorInput]) -> dict[str, list[str]]:
    if not visitors:
        return {"visitors": [_("Name at least one visitor.")]}
    errors: list[str] = []
    seen: set[str] = set()
    for i, v in enumerate(visitors, start=1):
        if not v.name.strip():
            errors.append(_("Visitor %(n)s: the name is required.") % {"n": i})
        if not v.id_number.strip():
            errors.append(_("Visitor %(n)s: the ID number is required.") % {"n": i})
        key = "".join(v.id_number.split()).upper()
        if key and key in seen:
            errors.append(_("Visitor %(n)s: the same ID number is listed twice.") % {"n": i})
        seen.add(key)
    return {"visitors": errors} if errors else {}


def visit_book(
    *,
    customer: Customer,
    actor: Any,
    room: Room,
    reason: str,
    activity: str,
    expected_entry_at: datetime,
    expected_exit_at: datetime,
    visitors: list[VisitorInput],
    activity_other: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    needs_tools: bool = False,
    tools_detail: str = "",
    needs_software: bool = False,
    software_detail: str = "",
    needs_lodging: bool = False,
    lodging_detail: str = "",
    other_help: str = "",
    emergency: bool = False,
    emergency_reason: str = "",
    now: datetime | None = None,
) -> Visit:
    """Book a visit (a customer user for their own organisation, or staff for a customer).
    Entry must be at least the lead time ahead unless the booking is marked as an emergency
    with a reason; the approver sees the emergency flag."""
    now = now or timezone.now()
    if not user_is_staff(actor):
        if user_customer_id(actor) != customer.pk:
            raise ForbiddenError(_("You can only book visits for your own organisation."))
    elif not actor.has_perm("access_requests.add_visit"):
        raise ForbiddenError(_("Your role does not allow booking visits."))
    if not room.active or not room.data_centre.active:
        raise DomainError(_("This machine room cannot be booked."), field_errors={"room": [_("Not open for visits.")]})
    # Who hears the decision: the booking customer user, or (staff booking) the customer's
    # first authorized contact, unless the booking names someone.
    if not user_is_staff(actor):
        contact_name = contact_name or actor.get_full_name() or actor.get_username()
        contact_email = contact_email or actor.email
    else:
        contact = customer.authorized_contacts.filter(active=True).order_by("priority", "id").first()
        if contact is not None:
            contact_name = contact_name or contact.name
            contact_email = contact_email or contact.email
            contact_phone = contact_phone or contact.mobile or contact.office_phone
    errors: dict[str, list[str]] = {}
    if expected_entry_at <= now:
        errors["expected_entry_at"] = [_("The expected entry must be in the future.")]
    elif expected_entry_at - now < lead_time() and not emergency:
        hours = lead_time().total_seconds() / 3600
        errors["expected_entry_at"] = [
            _("Visits must be booked at least %(hours)s hours ahead; mark the booking as an "
              "emergency and say why to book a sooner visit.") % {"hours": f"{hours:g}"}]
    errors.update(_validate_visitors(visitors))
    visit = Visit(
        customer=customer, room=room, reason=reason, activity=activity, activity_other=activity_other,
        expected_entry_at=expected_entry_at, expected_exit_at=expected_exit_at,
        needs_tools=needs_tools, tools_detail=tools_detail, needs_software=needs_software,
        software_detail=software_detail, needs_lodging=needs_lodging, lodging_detail=lodging_detail,
        other_help=other_help, emergency=emergency, emergency_reason=emergency_reason if emergency else "",
        contact_name=contact_name, contact_phone=contact_phone, contact_email=contact_email,
        requested_at=now, requested_by=_actor(actor),
    )
    try:
        visit.full_clean(exclude=["number", "state"])  # protected FSM field: never re-set
    except ValidationError as e:
        for k, msgs in e.message_dict.items():
            errors.setdefault(k, []).extend(msgs)
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        visit.save()
        local = timezone.localtime(visit.requested_at)
        visit.number = f"JF{local:%Y%m%d}-{visit.pk:06d}"
        Visit.objects.filter(pk=visit.pk).update(number=visit.number)
        for v in visitors:
            Visitor.objects.create(visit=visit, name=v.name.strip(), id_type=v.id_type,
                                   id_number=v.id_number, phone=v.phone)
        audit_record(obj=visit, action="create", actor=actor, to_state=visit.state, now=now,
                     data={"emergency": emergency, "visitors": len(visitors), "room": room.pk})
    return visit


def _locked(visit_id: int) -> Visit:
    try:
        return Visit.objects.select_for_update(of=("self",)).select_related("customer", "room__data_centre").get(pk=visit_id)
    except Visit.DoesNotExist:
        raise DomainError(_("No such visit."), code="not_found") from None


TRANSITION_LABELS = {
    "approve": gettext_lazy("approved"), "decline": gettext_lazy("declined"),
    "check_in": gettext_lazy("checked in"), "check_out": gettext_lazy("checked out"),
    "close": gettext_lazy("closed"), "cancel": gettext_lazy("cancelled"),
    "mark_no_show": gettext_lazy("marked as a no-show"),
}


def _check(visit: Visit, method: str) -> None:
    """Refuse a move the state machine does not allow (ConflictError, 409), changing nothing."""
    if not can_proceed(getattr(visit, method)):
        raise ConflictError(
            _("A visit that is %(state)s cannot be %(action)s.")
            % {"state": visit.get_state_display(), "action": TRANSITION_LABELS.get(method, method)})


def _move(visit: Visit, method: str, *, actor: Any, reason: str = "", now: datetime,
          data: dict[str, Any] | None = None, **kwargs: Any) -> None:
    _check(visit, method)
    before = visit.state
    getattr(visit, method)(at=now, **kwargs)
    visit.save()
    audit_record(obj=visit, action=method, actor=actor, from_state=before, to_state=visit.state,
                 reason=reason, now=now, data=data)


def _check_escort(*, visit: Visit, escort: Any, start: datetime, end: datetime,
                  allow_overlap: bool) -> list[str]:
    """Refuse an escort who is not staff; refuse (or, when the approver confirmed it, record)
    an escort who already escorts another approved visit at an overlapping time."""
    if escort is None or not getattr(escort, "is_active", False) or not user_is_staff(escort):
        raise DomainError(_("Choose a member of staff as the escort."),
                          field_errors={"escort": [_("Not a member of staff.")]})
    clashes = list(escort_overlaps(escort_id=escort.pk, start=start, end=end, exclude_pk=visit.pk))
    numbers = [c.number or str(c.pk) for c in clashes]
    if clashes and not allow_overlap:
        msg = _("%(escort)s already escorts %(visits)s at an overlapping time.") % {
            "escort": escort.get_full_name() or escort.get_username(), "visits": ", ".join(numbers)}
        raise ConflictError(msg, field_errors={"escort": [msg]}, code="escort_overlap")
    return numbers


def visit_approve(*, visit_id: int, actor: Any, escort: Any, reason: str = "",
                  allow_escort_overlap: bool = False, now: datetime | None = None) -> Visit:
    """Approve a requested visit with its escort and send the customer the calendar
    invitation (METHOD:REQUEST)."""
    _require_approver(actor)
    now = now or timezone.now()
    with transaction.atomic():
        v = _locked(visit_id)
        _check(v, "approve")
        overlaps = _check_escort(visit=v, escort=escort, start=v.expected_entry_at, end=v.expected_exit_at,
                                 allow_overlap=allow_escort_overlap)
        _move(v, "approve", actor=actor, reason=reason, now=now, by=_actor(actor), escort=escort, why=reason,
              data={"escort": escort.pk, "escort_overlaps": overlaps, "emergency": v.emergency})
        _send_invitation(visit=v, method=ics.REQUEST, kind="visit_approved", now=now)
    return v


def visit_decline(*, visit_id: int, actor: Any, reason: str, now: datetime | None = None) -> Visit:
    """Decline a requested visit with a reason; the customer is told by e-mail with a
    METHOD:CANCEL calendar message."""
    _require_approver(actor)
    if not reason.strip():
        raise DomainError(_("Say why the visit is declined."), field_errors={"reason": [_("Required.")]})
    now = now or timezone.now()
    with transaction.atomic():
        v = _locked(visit_id)
        _move(v, "decline", actor=actor, reason=reason, now=now, by=_actor(actor), why=reason)
        _send_invitation(visit=v, method=ics.CANCEL, kind="visit_declined", now=now)
    return v


def visit_cancel(*, visit_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Visit:
    """The customer (or data-centre staff for them) cancels before entry; the calendar event
    is cancelled (METHOD:CANCEL)."""
    now = now or timezone.now()
    with transaction.atomic():
        v = _locked(visit_id)
        if not user_has_role(actor, Role.DC_STAFF, Role.MANAGER) and user_customer_id(actor) != v.customer_id:
            raise ForbiddenError(_("Only the customer or data-centre staff can cancel a visit."))
        _move(v, "cancel", actor=actor, reason=reason, now=now, why=reason)
        _send_invitation(visit=v, method=ics.CANCEL, kind="visit_cancelled", now=now)
    return v


def visit_change(*, visit_id: int, actor: Any, room: Room | None = None,
                 expected_entry_at: datetime | None = None, expected_exit_at: datetime | None = None,
                 escort: Any = None, allow_escort_overlap: bool = False,
                 now: datetime | None = None) -> Visit:
    """Change the room, the times or the escort of a visit not yet entered. The customer may
    change their own request until it is decided; after approval only data-centre staff change
    it, and the customer receives an update of the invitation (same UID, higher SEQUENCE)."""
    now = now or timezone.now()
    with transaction.atomic():
        v = _locked(visit_id)
        staff = user_has_role(actor, Role.DC_STAFF, Role.MANAGER)
        if not staff and user_customer_id(actor) != v.customer_id:
            raise ForbiddenError(_("Only the customer or data-centre staff can change a visit."))
        if v.state not in CANCELLABLE_STATES:
            raise ConflictError(_("A visit that is %(state)s cannot be changed.") % {"state": v.get_state_display()})
        if v.state == S.APPROVED and not staff:
            raise ForbiddenError(_("An approved visit is changed by data-centre staff; please contact them."))
        if escort is not None and not staff:
            raise ForbiddenError(_("Only data-centre staff assign escorts."))
        before = {"room": v.room_id, "expected_entry_at": v.expected_entry_at.isoformat(),
                  "expected_exit_at": v.expected_exit_at.isoformat(), "escort": v.escort_id}
        if room is not None:
            if not room.active:
                raise DomainError(_("This machine room cannot be booked."), field_errors={"room": [_("Not open for visits.")]})
            v.room = room
        times_changed = False
        if expected_entry_at is not None and expected_entry_at != v.expected_entry_at:
            v.expected_entry_at, times_changed = expected_entry_at, True
        if expected_exit_at is not None and expected_exit_at != v.expected_exit_at:
            v.expected_exit_at, times_changed = expected_exit_at, True
        if times_changed and v.expected_entry_at <= now:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"expected_entry_at": [_("The expected entry must be in the future.")]})
        if times_changed and not staff and not v.emergency and v.expected_entry_at - now < lead_time():
            # The customer's own change is held to the same lead time as the booking.
            raise DomainError(_("Please correct the errors below."), field_errors={"expected_entry_at": [
                _("Visits must be booked at least %(hours)s hours ahead; mark the booking as an "
                  "emergency and say why to book a sooner visit.")
                % {"hours": f"{lead_time().total_seconds() / 3600:g}"}]})
        if v.expected_exit_at <= v.expected_entry_at:
            raise DomainError(_("Please correct the errors below."), field_errors={
                "expected_exit_at": [_("The expected exit must be after the expected entry.")]})
        if escort is not None:
            v.escort = escort
        overlaps: list[str] = []
        if v.state == S.APPROVED and (escort is not None or times_changed):
            overlaps = _check_escort(visit=v, escort=v.escort, start=v.expected_entry_at,
                                     end=v.expected_exit_at, allow_overlap=allow_escort_overlap)
        after = {"room": v.room_id, "expected_entry_at": v.expected_entry_at.isoformat(),
                 "expected_exit_at": v.expected_exit_at.isoformat(), "escort": v.escort_id}
        if after == before:
            return v
        v.overstay_flagged_at = None if times_changed else v.overstay_flagged_at
        v.save()
        audit_record(obj=v, action="change", actor=actor, now=now,
                     data={"before": before, "after": after, "escort_overlaps": overlaps})
        if v.state == S.APPROVED:
            _send_invitation(visit=v, method=ics.REQUEST, kind="visit_changed", now=now)
    return v


def visitor_check_in(*, visit_id: int, visitor_id: int, actor: Any, pass_number: str,
                     id_document_confirmed: bool, override_reason: str = "",
                     now: datetime | None = None) -> Visitor:
    """Security at the door lets one listed visitor in: the provider-issued pass number is
    recorded and the ID document was checked against the booking. The first visitor in moves
    the visit to checked in. Someone not on the booking is never let in. A check-in outside the
    booked time plus or minus the check-in window is refused unless security gives the reason
    for letting them in anyway; the override and its reason go into the visit's audit trail."""
    _require_security(actor)
    now = now or timezone.now()
    override_reason = (override_reason or "").strip()
    errors: dict[str, list[str]] = {}
    if len(override_reason) > OVERRIDE_REASON_MAX_LENGTH:
        errors["override_reason"] = [_("Keep the reason under %(n)s characters.")
                                     % {"n": OVERRIDE_REASON_MAX_LENGTH}]
    if not pass_number.strip():
        errors["pass_number"] = [_("Enter the number of the pass the provider issued.")]
    if not id_document_confirmed:
        errors["id_document_confirmed"] = [_("Check the ID document against the booking first.")]
    with transaction.atomic():
        v = _locked(visit_id)
        visitor = Visitor.objects.select_for_update().filter(pk=visitor_id, visit_id=v.pk).first()
        if visitor is None:
            raise DomainError(_("This person is not on the booking and cannot be checked in."),
                              field_errors={"visitor": [_("Not on this booking.")]}, code="not_listed")
        if v.state not in (S.APPROVED, S.CHECKED_IN):
            raise ConflictError(_("A visit that is %(state)s cannot be checked in.") % {"state": v.get_state_display()})
        if visitor.entered_at is not None:
            raise ConflictError(_("%(name)s is already checked in.") % {"name": visitor.name})
        if not visitor.id_number:
            raise ConflictError(_("The ID number of %(name)s is no longer on record.") % {"name": visitor.name})
        outside = not checkin_inside_window(v, now)
        if outside and not override_reason and "override_reason" not in errors:
            earliest, latest = checkin_window_bounds(v)
            msg = _("%(now)s is outside the booked time %(start)s – %(end)s plus or minus %(minutes)s "
                    "minutes (check-in from %(earliest)s, before %(latest)s). To let the visitor in anyway, "
                    "give the reason for the override.") % {
                "now": _local(now), "start": _local(v.expected_entry_at), "end": _local(v.expected_exit_at),
                "minutes": int(checkin_window().total_seconds() // 60),
                "earliest": _local(earliest), "latest": _local(latest)}
            errors["override_reason"] = [_("Required outside the booked time: say why the visitor is let in.")]
            raise DomainError(msg, field_errors=errors, code="outside_window")
        if errors:
            raise DomainError(_("Please correct the errors below."), field_errors=errors)
        visitor.pass_number = pass_number.strip()
        visitor.entered_at = now
        visitor.id_checked_by = _actor(actor)
        visitor.save(update_fields=["pass_number", "entered_at", "id_checked_by"])
        if outside:
            earliest, latest = checkin_window_bounds(v)
            audit_record(obj=v, action=CHECK_IN_OVERRIDE, actor=actor, now=now, reason=override_reason,
                         data={"visitor": visitor.pk, "name": visitor.name,
                               "window_minutes": int(checkin_window().total_seconds() // 60),
                               "earliest": earliest.isoformat(), "latest": latest.isoformat(),
                               "side": "early" if now < earliest else "late"})
        if v.state == S.APPROVED:
            _move(v, "check_in", actor=actor, now=now, data={"visitor": visitor.pk, "override": outside})
        audit_record(obj=v, action="visitor_in", actor=actor, now=now,
                     data={"visitor": visitor.pk, "name": visitor.name, "pass_number": visitor.pass_number,
                           "override": outside})
    return visitor


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def visitor_check_out(*, visit_id: int, actor: Any, visitor_id: int | None = None,
                      now: datetime | None = None) -> Visit:
    """Log the exit of one visitor (or of everyone still inside). When nobody is left inside,
    the visit is checked out."""
    _require_security(actor)
    now = now or timezone.now()
    with transaction.atomic():
        v = _locked(visit_id)
        if v.state != S.CHECKED_IN:
            raise ConflictError(_("A visit that is %(state)s cannot be checked out.") % {"state": v.get_state_display()})
        inside = Visitor.objects.select_for_update().filter(visit_id=v.pk, entered_at__isnull=False,
                                                             exited_at__isnull=True)
        if visitor_id is not None:
            if not Visitor.objects.filter(pk=visitor_id, visit_id=v.pk).exists():
                raise DomainError(_("This person is not on the booking."),
                                  field_errors={"visitor": [_("Not on this booking.")]})
            inside = inside.filter(pk=visitor_id)
        leaving = list(inside)
        if not leaving:
            raise ConflictError(_("Nobody of this visit is inside."))
        for person in leaving:
            person.exited_at = now
            person.save(update_fields=["exited_at"])
            audit_record(obj=v, action="visitor_out", actor=actor, now=now,
                         data={"visitor": person.pk, "name": person.name})
        if not Visitor.objects.filter(visit_id=v.pk, entered_at__isnull=False, exited_at__isnull=True).exists():
            _move(v, "check_out", actor=actor, now=now)
    return v


def visit_close(*, visit_id: int, actor: Any, work_done: str = "", now: datetime | None = None) -> Visit:
    """Close a checked-out visit with a note of the work done (for the visit log)."""
    _require_approver(actor)
    now = now or timezone.now()
    with transaction.atomic():
        v = _locked(visit_id)
        _move(v, "close", actor=actor, now=now, work_done=work_done.strip())
    return v


# --- periodic checks -------------------------------------------------------------------------

def visits_mark_no_shows(*, now: datetime | None = None) -> list[int]:
    """Approved visits nobody checked in for by the expected entry plus the grace period become
    no-shows. Rows are claimed with SKIP LOCKED so overlapping runs never handle one twice."""
    now = now or timezone.now()
    done: list[int] = []
    with transaction.atomic():
        due = (Visit.objects.select_for_update(skip_locked=True)
               .filter(state=S.APPROVED, expected_entry_at__lte=now - no_show_grace()))
        for v in due:
            _move(v, "mark_no_show", actor=None, now=now, reason="no check-in within the grace period")
            done.append(v.pk)
    return done


def _notify_staff(*, visit: Visit, kind: str, subject: str, body: str, key: str, now: datetime) -> None:
    recipients = {u.pk: u for u in staff_users_with_role(Role.DC_STAFF)}
    if visit.escort_id:
        recipients.setdefault(visit.escort_id, visit.escort)
    notifications_enqueue(messages=[
        Message(channel="email", address=u.email, kind=kind, subject=subject, body=body,
                idempotency_key=f"{key}:{u.pk}", recipient_id=u.pk, related=visit)
        for u in recipients.values() if u.email], now=now)


def visits_flag_overstays(*, now: datetime | None = None) -> list[int]:
    """Visits with someone still inside past the expected exit are flagged once, and data-centre
    staff and the escort are told."""
    now = now or timezone.now()
    flagged: list[int] = []
    with transaction.atomic():
        due = (Visit.objects.select_for_update(skip_locked=True, of=("self",)).select_related("room__data_centre", "escort")
               .filter(state=S.CHECKED_IN, expected_exit_at__lt=now, overstay_flagged_at__isnull=True))
        for v in due:
            inside = list(v.visitors.filter(entered_at__isnull=False, exited_at__isnull=True)
                          .values_list("name", flat=True))
            if not inside:
                continue
            v.overstay_flagged_at = now
            v.save(update_fields=["overstay_flagged_at"])
            audit_record(obj=v, action="overstay", now=now, data={"inside": inside})
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("Overstay: visit %(number)s is still inside past its expected exit") % {"number": v.number}
                body = render_to_string("emails/visit_staff_alert.txt", {
                    "visit": v, "inside": inside, "alert": "overstay",
                    "url": f"{settings.PORTAL_BASE_URL}/visits/{v.pk}/"})
            _notify_staff(visit=v, kind="visit_overstay", subject=subject, body=body,
                          key=f"visit:{v.pk}:overstay", now=now)
            flagged.append(v.pk)
    return flagged


def visits_flag_open_at_day_end(*, now: datetime | None = None) -> list[int]:
    """At the end of the day: visits that entered today or earlier and were never checked out
    are flagged once to data-centre staff."""
    now = now or timezone.now()
    flagged: list[int] = []
    with transaction.atomic():
        due = (Visit.objects.select_for_update(skip_locked=True, of=("self",)).select_related("room__data_centre", "escort")
               .filter(state=S.CHECKED_IN, open_at_day_end_flagged_at__isnull=True, checked_in_at__lte=now))
        for v in due:
            inside = list(v.visitors.filter(entered_at__isnull=False, exited_at__isnull=True)
                          .values_list("name", flat=True))
            v.open_at_day_end_flagged_at = now
            v.save(update_fields=["open_at_day_end_flagged_at"])
            audit_record(obj=v, action="not_checked_out", now=now, data={"inside": inside})
            with translation.override(settings.LANGUAGE_CODE):
                subject = _("Visit %(number)s was not checked out today") % {"number": v.number}
                body = render_to_string("emails/visit_staff_alert.txt", {
                    "visit": v, "inside": inside, "alert": "day_end",
                    "url": f"{settings.PORTAL_BASE_URL}/visits/{v.pk}/"})
            _notify_staff(visit=v, kind="visit_not_checked_out", subject=subject, body=body,
                          key=f"visit:{v.pk}:day_end", now=now)
            flagged.append(v.pk)
    return flagged


def visitor_ids_erase(*, now: datetime | None = None) -> int:
    """Erase the full ID numbers of visits that ended more than the retention time ago; the
    masked form and the rest of the visit log are kept. Returns how many were erased."""
    now = now or timezone.now()
    cutoff = now - id_retention()
    ended = (Q(visit__checked_out_at__lt=cutoff)
             | Q(visit__checked_out_at__isnull=True, visit__expected_exit_at__lt=cutoff))
    with transaction.atomic():
        rows = (Visitor.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(ended).exclude(id_number="").exclude(visit__state=S.CHECKED_IN))
        ids = list(rows.values_list("pk", flat=True))
        Visitor.objects.filter(pk__in=ids).update(id_number="", id_erased_at=now)
    return len(ids)


# --- the customer's e-mail with the calendar invitation --------------------------------------

def _next_sequence(visit: Visit, now: datetime) -> int:
    seq = 0 if visit.ics_sent_at is None else visit.ics_sequence + 1
    visit.ics_sequence, visit.ics_sent_at = seq, now
    Visit.objects.filter(pk=visit.pk).update(ics_sequence=seq, ics_sent_at=now)
    return seq


SUBJECTS = {
    "visit_approved": gettext_lazy("Your machine-room visit %(number)s is approved"),
    "visit_declined": gettext_lazy("Your machine-room visit %(number)s is declined"),
    "visit_cancelled": gettext_lazy("Your machine-room visit %(number)s is cancelled"),
    "visit_changed": gettext_lazy("Your machine-room visit %(number)s has changed"),
}


def _send_invitation(*, visit: Visit, method: str, kind: str, now: datetime) -> None:
    """E-mail the decision (or change) to the customer's contact with the .ics attached. The
    file is written under MEDIA_ROOT because the e-mail channel reads attachments at send time;
    a rolled-back transaction leaves an unreferenced file, never a message about nothing."""
    if not visit.contact_email:
        return
    seq = _next_sequence(visit, now)
    lang = "en" if visit.customer.language == Language.EN else "zh-hans"
    with translation.override(lang):
        subject = str(SUBJECTS[kind]) % {"number": visit.number}
        summary = _("Machine-room visit %(number)s") % {"number": visit.number}
        body = render_to_string("emails/visit_decision.txt", {
            "visit": visit, "kind": kind, "escort": visit.escort,
            "url": f"{settings.PORTAL_BASE_URL}/visits/{visit.pk}/"})
        description = render_to_string("emails/visit_ics_description.txt", {"visit": visit})
    data = ics.visit_ics(visit=visit, method=method, sequence=seq, now=now, summary=summary,
                         description=description)
    path = default_storage.save(f"visits/{visit.pk}/visit-{visit.pk}-{seq}-{method.lower()}.ics",
                                ContentFile(data))
    attachment = as_attachment(name="invite.ics", path=path, mimetype="text/calendar")
    attachment["ical_method"] = method
    notifications_enqueue(messages=[Message(
        channel="email", address=visit.contact_email, kind=kind, subject=subject, body=body,
        idempotency_key=f"visit:{visit.pk}:ics:{seq}", related=visit, attachments=[attachment],
    )], now=now)
