"""Issuing written reports: render, hash, store, never change. A correction is a new version
that points at the report it corrects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils.crypto import get_random_string

from .models import WrittenReport
from .rendering import render_pdf, sha256_hex
from .selectors import report_draft, report_signer


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
    report = report_draft(subject=subject, customer=customer, kind=kind, number_prefix=number_prefix,
                          content=content, language=language, actor=actor, supersedes=supersedes,
                          now=now)
    pdf = render_pdf(template=template, language=language,
                     context={**context, "report": report, "content": content,
                              "signer": report_signer(user=actor, kind=kind)})
    report.sha256 = sha256_hex(pdf)
    report.size = len(pdf)
    # A server-made name: nothing from the user reaches the file system.
    report.file.save(f"{report.number}-{get_random_string(12)}.pdf", ContentFile(pdf), save=False)
    with transaction.atomic():
        report.save()
    return report


def reports_for(subject: models.Model) -> models.QuerySet[WrittenReport]:
    return WrittenReport.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
    ).select_related("issued_by", "supersedes").order_by("sequence", "version")
