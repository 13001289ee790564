"""Issuing written reports: render, hash, store, never change. A correction is a new version
that points at the report it corrects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from slaportal.errors import ConflictError

from .models import WrittenReport
from .rendering import render_pdf, sha256_hex


def report_issue(
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
) -> WrittenReport:
    """Render and store one report of `subject`. Call inside the caller's transaction with the
    subject's row locked, so two issuers cannot take the same sequence number."""
    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(subject)
    existing = WrittenReport.objects.filter(content_type=ct, object_id=subject.pk)
    if supersedes is not None:
        if supersedes.content_type_id != ct.pk or supersedes.object_id != subject.pk:
            raise ConflictError(_("A correction must belong to the same item."))
        if hasattr(supersedes, "superseded_by"):
            raise ConflictError(_("This report has already been corrected; correct the latest version."))
        sequence, version = supersedes.sequence, supersedes.version + 1
    else:
        sequence = (existing.aggregate(m=Max("sequence"))["m"] or 0) + 1
        version = 1
    number = f"{number_prefix}-R{sequence}" + (f"-v{version}" if version > 1 else "")
    report = WrittenReport(
        kind=kind, number=number, content_type=ct, object_id=subject.pk, customer=customer,
        sequence=sequence, version=version, supersedes=supersedes, language=language,
        content=content, issued_at=now,
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    pdf = render_pdf(template=template, language=language,
                     context={**context, "report": report, "content": content})
    report.sha256 = sha256_hex(pdf)
    report.size = len(pdf)
    # A server-made name: nothing from the user reaches the file system.
    report.file.save(f"{number}-{get_random_string(12)}.pdf", ContentFile(pdf), save=False)
    with transaction.atomic():
        report.save()
    return report


def reports_for(subject: models.Model) -> models.QuerySet[WrittenReport]:
    return WrittenReport.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("issued_by", "supersedes").order_by("sequence", "version")
