"""Written reports: immutable, numbered PDFs with their SHA-256. A correction is a new version."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import ReportKind


class WrittenReport(FastChoiceDisplay, models.Model):
    """One issued report. `sequence` counts the reports of a subject (1 = the first written
    report); `version` counts corrections of the same report. Rows and files never change once
    written: save() refuses an update and delete() refuses outright."""

    kind = models.CharField(_("kind"), max_length=16, choices=ReportKind.choices)
    number = models.CharField(_("report number"), max_length=80, unique=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="reports", verbose_name=_("customer"))
    sequence = models.PositiveSmallIntegerField(_("report no."))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("corrects"))
    language = models.CharField(_("language"), max_length=8)
    content = models.JSONField(_("content"))
    file = models.FileField(_("PDF"), upload_to="reports/%Y/%m/", max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("issued by"))

    class Meta:
        verbose_name = _("written report")
        verbose_name_plural = _("written reports")
        ordering = ["sequence", "version"]
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "sequence", "version"],
                                    name="report_unique_version"),
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="report_subject")]

    def __str__(self) -> str:
        return self.number

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"

    @property
    def is_current(self) -> bool:
        return not hasattr(self, "superseded_by")

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("An issued report is immutable; issue a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("An issued report cannot be deleted.")
