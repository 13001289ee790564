"""The Internet Society of China's side of anti-spam (seed 002 §4.2 d and i): each published
spam-server list is a task processed within one working day (E4-ISC), and the provider's own
domain or IP listed by another anti-spam organisation is recorded and reported to the ISC."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from sla.calendars import CalendarYearUnknown
from sla.choices import ClockState
from sla.services import clock_meet_for, clock_start
from slaportal.errors import ConflictError, DomainError
from slaportal.uploads import check_upload

from ..choices import PublicationState
from ..models import BlacklistListing, IscPublication
from .cases import _require_actor, _user

ISC = "E4-ISC"


def publication_record(*, reference: str, published_at: datetime, actor: Any, url: str = "",
                       f: IO[bytes] | None = None, now: datetime | None = None) -> IscPublication:
    """Record a list the ISC published (its reference, when, the address or the file) and start
    E4-ISC at the publication time: processed within one working day after it."""
    _require_actor(actor)
    now = now or timezone.now()
    errors: dict[str, list[Any]] = {}
    if not (reference or "").strip():
        errors["reference"] = [_("Required.")]
    if published_at > now:
        errors["published_at"] = [_("Cannot be in the future.")]
    if not (url or "").strip() and f is None:
        errors["url"] = [_("Give the list's address or upload it.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    checked = check_upload(f, field="file") if f is not None else None
    pub = IscPublication(reference=reference.strip()[:200], published_at=published_at, url=(url or "").strip(),
                         recorded_at=now, recorded_by=_user(actor))
    try:
        with transaction.atomic():
            pub.save()
            if checked is not None and f is not None:
                pub.file.save(checked.stored_name, File(f), save=False)
                pub.file_type, pub.file_sha256 = checked.mime, checked.sha256
                pub.save(update_fields=["file", "file_type", "file_sha256"])
            audit_record(obj=pub, action="create", actor=actor, now=now, to_state=pub.state,
                         data={"published_at": published_at.isoformat(), "url": pub.url or None,
                               "sha256": pub.file_sha256 or None})
            try:
                with transaction.atomic():
                    clock_start(subject=pub, policy_code=ISC, label=f"{_('ISC list')} {pub.reference}"[:200],
                                started_at=published_at, actor=actor, reason="ISC list published", now=now)
            except CalendarYearUnknown as e:
                audit_record(obj=pub, action="deadline_pending", actor=actor, now=now, reason=str(e.message),
                             data={"year": e.year})
    except IntegrityError:
        raise ConflictError(_("A list with this reference is already recorded."),
                            field_errors={"reference": [_("Already recorded.")]}) from None
    return pub


def publication_process(*, publication_id: int, blocked: str, actor: Any,
                        processed_at: datetime | None = None, now: datetime | None = None) -> IscPublication:
    """The list was processed as required: say what was blocked. Meets E4-ISC at the processing
    time (which may be given when it is recorded later; it cannot be in the future)."""
    _require_actor(actor)
    now = now or timezone.now()
    processed_at = processed_at or now
    errors: dict[str, list[Any]] = {}
    if not (blocked or "").strip():
        errors["blocked"] = [_("Say what was blocked.")]
    if processed_at > now:
        errors["processed_at"] = [_("Cannot be in the future.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        pub = IscPublication.objects.select_for_update().filter(pk=publication_id).first()
        if pub is None:
            raise DomainError(_("No such list publication."), code="not_found")
        if pub.state != PublicationState.OPEN:
            raise ConflictError(_("This list is already processed."))
        if processed_at < pub.published_at:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"processed_at": [_("Cannot be before the publication.")]})
        pub.state, pub.processed_at, pub.processed_by = PublicationState.PROCESSED, processed_at, _user(actor)
        pub.blocked = blocked.strip()
        pub.save(update_fields=["state", "processed_at", "processed_by", "blocked"])
        audit_record(obj=pub, action="process", actor=actor, from_state=PublicationState.OPEN,
                     to_state=pub.state, reason=pub.blocked, now=now,
                     data={"processed_at": processed_at.isoformat()})
        clock = clock_meet_for(subject=pub, policy_code=ISC, actor=actor, reason="list processed", now=processed_at)
        if clock is not None and clock.state == ClockState.BREACHED:
            audit_record(obj=pub, action="processed_late", actor=actor, now=now, data={"clock": clock.pk})
    return pub


def listing_record(*, organisation: str, listed_item: str, listed_at: datetime, actor: Any,
                   url: str = "", note: str = "", now: datetime | None = None) -> BlacklistListing:
    """Record that another anti-spam organisation put the provider's domain or IP on its reject
    list (who, what, when)."""
    _require_actor(actor)
    now = now or timezone.now()
    errors: dict[str, list[Any]] = {}
    if not (organisation or "").strip():
        errors["organisation"] = [_("Required.")]
    if not (listed_item or "").strip():
        errors["listed_item"] = [_("Required.")]
    if listed_at > now:
        errors["listed_at"] = [_("Cannot be in the future.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        listing = BlacklistListing.objects.create(
            organisation=organisation.strip()[:200], listed_item=listed_item.strip()[:253], listed_at=listed_at,
            url=(url or "").strip(), note=(note or "").strip(), recorded_at=now, recorded_by=_user(actor))
        audit_record(obj=listing, action="create", actor=actor, now=now,
                     data={"organisation": listing.organisation, "listed_item": listing.listed_item,
                           "listed_at": listed_at.isoformat()})
    return listing


def listing_report(*, listing_id: int, note: str, actor: Any, reported_at: datetime | None = None,
                   now: datetime | None = None) -> BlacklistListing:
    """The listing was reported to the Internet Society of China (seed 002 §4.2 i: 及时向互联网协会
    通报): when, by whom, what was said. Once per listing."""
    _require_actor(actor)
    now = now or timezone.now()
    reported_at = reported_at or now
    errors: dict[str, list[Any]] = {}
    if not (note or "").strip():
        errors["note"] = [_("Say what was reported.")]
    if reported_at > now:
        errors["reported_at"] = [_("Cannot be in the future.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        listing = BlacklistListing.objects.select_for_update().filter(pk=listing_id).first()
        if listing is None:
            raise DomainError(_("No such listing."), code="not_found")
        if listing.reported_at is not None:
            raise ConflictError(_("This listing is already reported to the ISC."))
        listing.reported_at, listing.reported_by, listing.report_note = reported_at, _user(actor), note.strip()
        listing.save(update_fields=["reported_at", "reported_by", "report_note"])
        audit_record(obj=listing, action="report_isc", actor=actor, reason=listing.report_note, now=now,
                     data={"reported_at": reported_at.isoformat()})
    return listing
