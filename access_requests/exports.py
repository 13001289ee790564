"""The visit log as CSV and PDF: one row per visitor — who, with whom, when in, when out, what was
done. Only the masked ID number is ever written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports.rendering import font_family, render_pdf

from .models import Visitor

# A cell starting with one of these is a formula to a spreadsheet program; prefix it so a
# visitor named "=HYPERLINK(...)" stays text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def _dt(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _escort(v: Any) -> str:
    return (v.escort.get_full_name() or v.escort.get_username()) if v.escort_id else ""


def log_file_stem(args: dict[str, Any]) -> str:
    """The download name of a visit log: `visit-log`, with the dates it covers."""
    parts = ["visit-log"]
    if args.get("date_from"):
        parts.append(f"from-{args['date_from']:%Y%m%d}")
    if args.get("date_to"):
        parts.append(f"to-{args['date_to']:%Y%m%d}")
    return "-".join(parts)


def log_rows(visitors: Iterable[Visitor]) -> list[dict[str, str]]:
    rows = []
    for p in visitors:
        v = p.visit
        rows.append({
            "number": v.number or "", "customer": v.customer.name, "room": str(v.room),
            "state": str(v.get_state_display()), "visitor": p.name, "id_type": str(p.get_id_type_display()),
            "id_number": p.id_number_masked, "pass_number": p.pass_number, "escort": _escort(v),
            "expected_entry": _dt(v.expected_entry_at), "expected_exit": _dt(v.expected_exit_at),
            "entered": _dt(p.entered_at), "exited": _dt(p.exited_at), "activity": v.activity_display,
            "reason": v.reason, "work_done": v.work_done,
        })
    return rows


def columns() -> list[tuple[str, str]]:
    return [
        ("number", _("Booking number")), ("customer", _("Customer")), ("room", _("Machine room")),
        ("state", _("State")), ("visitor", _("Visitor")), ("id_type", _("ID document type")),
        ("id_number", _("ID number")), ("pass_number", _("Pass number")), ("escort", _("Escort")),
        ("expected_entry", _("Expected entry")), ("expected_exit", _("Expected exit")),
        ("entered", _("Entered")), ("exited", _("Exited")), ("activity", _("Activity")),
        ("reason", _("Reason for entry")), ("work_done", _("Work done")),
    ]


def visit_log_csv(visitors: Iterable[Visitor]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text correctly."""
    buf = io.StringIO()
    w = csv.writer(buf)
    cols = columns()
    w.writerow([str(label) for _k, label in cols])
    for row in log_rows(visitors):
        w.writerow([_cell(row[k]) for k, _label in cols])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def visit_log_pdf(visitors: Iterable[Visitor], *, date_from: date | None, date_to: date | None,
                  now: datetime | None = None) -> bytes:
    language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        cols = columns()
        rows = [[row[k] for k, _label in cols] for row in log_rows(visitors)]
    return render_pdf(template="reports/visit_log.html", language=language, context={
        "rows": rows, "columns": [label for _k, label in cols], "column_keys": [k for k, _label in cols],
        "date_from": date_from, "date_to": date_to,
        "generated_at": timezone.localtime(now or timezone.now()), "font_family": font_family(),
        "provider": {"name": getattr(settings, "PROVIDER_NAME", ""),
                     "address": getattr(settings, "PROVIDER_ADDRESS", ""),
                     "phone": getattr(settings, "PROVIDER_COMPLAINT_LINE", "")},
    })
