"""The calendar invitation of a visit, built with the icalendar package (RFC 5545/5546 iTIP).

One UID per visit for its whole life; the first message has SEQUENCE 0 and every later one a
higher number, so a calendar program replaces the event instead of adding a second one.
Approval and changes are METHOD:REQUEST, a cancellation or a decline METHOD:CANCEL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

if TYPE_CHECKING:
    from .models import Visit

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def visit_uid(visit: Visit) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "slaportal"
    return f"visit-{visit.pk}@{domain}"


def visit_ics(*, visit: Visit, method: str, sequence: int, now: datetime, summary: str,
              description: str) -> bytes:
    """The .ics bytes of one invitation message for `visit`. Times are written in UTC (the
    trailing Z), which every calendar program reads without a VTIMEZONE block."""
    cal = Calendar()
    cal.add("prodid", "-//SLA Portal//Machine-room visits//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    ev = Event()
    ev.add("uid", visit_uid(visit))
    ev.add("sequence", sequence)
    ev.add("dtstamp", now.astimezone(UTC))
    ev.add("dtstart", visit.expected_entry_at.astimezone(UTC))
    ev.add("dtend", visit.expected_exit_at.astimezone(UTC))
    ev.add("summary", summary)
    ev.add("description", description)
    ev.add("location", vText(str(visit.room)))
    ev.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(getattr(settings, "PROVIDER_NAME", "SLA Portal"))
    ev.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{visit.contact_email}")
    attendee.params["cn"] = vText(visit.contact_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    ev.add("attendee", attendee)
    cal.add_component(ev)
    return cal.to_ical()
