"""Reads of the reports app: the next report of a subject as it would be issued (number,
sequence, version), who signs it, and the preview of it. Nothing here writes: a preview creates no
report row, no file, no audit row and sends nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.choices import Role
from customers.selectors import user_roles
from slaportal.errors import ConflictError

from .choices import ReportKind
from .models import WrittenReport

# Whose role the signature block names first when the signer holds several: the specialist
# signs complaint reports, the engineer operation reports.
SIGNER_ROLE_ORDER: dict[str, tuple[str, ...]] = {
    ReportKind.COMPLAINT: (Role.SPECIALIST, Role.MANAGER, Role.ENGINEER),
    ReportKind.OPERATION: (Role.ENGINEER, Role.MANAGER, Role.SPECIALIST),
}
DEFAULT_ROLE_ORDER = (Role.SPECIALIST, Role.ENGINEER, Role.MANAGER, Role.DC_STAFF)


def report_draft(
    *,
    subject: models.Model,
    customer: Any,
    kind: str,
    number_prefix: str,
    content: dict[str, Any],
    language: str,
    actor: Any = None,
    supersedes: WrittenReport | None = None,
    now: datetime | None = None,
) -> WrittenReport:
    """The report `report_issue` would store, unsaved: its number, sequence and version follow
    the subject's reports so far. A correction of a report that was already corrected is refused."""
    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(subject)
    if supersedes is not None:
        if supersedes.content_type_id != ct.pk or supersedes.object_id != subject.pk:
            raise ConflictError(_("A correction must belong to the same item."))
        if hasattr(supersedes, "superseded_by"):
            raise ConflictError(_("This report has already been corrected; correct the latest version."))
        sequence, version = supersedes.sequence, supersedes.version + 1
    else:
        existing = WrittenReport.objects.filter(content_type=ct, object_id=subject.pk)
        sequence = (existing.aggregate(m=Max("sequence"))["m"] or 0) + 1
        version = 1
    number = f"{number_prefix}-R{sequence}" + (f"-v{version}" if version > 1 else "")
    return WrittenReport(
        kind=kind, number=number, content_type=ct, object_id=subject.pk, customer=customer,
        sequence=sequence, version=version, supersedes=supersedes, language=language,
        content=content, issued_at=now,
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def report_signer(*, user: Any, kind: str) -> dict[str, str]:
    """The signature block's name and role (in Chinese and English) of the person issuing a
    report of `kind`. Empty values when the report is issued by the system."""
    if not getattr(user, "is_authenticated", False):
        return {"name": "", "role_zh": "", "role_en": ""}
    name = user.get_full_name() or user.get_username()
    held = user_roles(user)
    role = next((r for r in SIGNER_ROLE_ORDER.get(kind, DEFAULT_ROLE_ORDER) if r in held), None)
    if role is None:
        return {"name": name, "role_zh": "", "role_en": ""}
    labels = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            labels.append(str(Role(role).label))
    return {"name": name, "role_zh": labels[0], "role_en": labels[1]}


def report_preview_html(
    *,
    subject: models.Model,
    customer: Any,
    kind: str,
    number_prefix: str,
    content: dict[str, Any],
    template: str,
    context: dict[str, Any],
    language: str,
    actor: Any = None,
    supersedes: WrittenReport | None = None,
    now: datetime | None = None,
) -> str:
    """The report as it would be issued, rendered as an HTML fragment for the issuing page (the
    same template and the same styles as the PDF). Writes nothing."""
    report = report_draft(subject=subject, customer=customer, kind=kind, number_prefix=number_prefix,
                          content=content, language=language, actor=actor, supersedes=supersedes,
                          now=now)
    with translation.override(language):
        return render_to_string(template, {
            **context, "report": report, "content": content, "fragment": True,
            "signer": report_signer(user=actor, kind=kind),
        })
