"""The audit trail: one row per state transition or change of a sensitive record."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

APPEND_ONLY = "Audit entries are append-only: they cannot be changed or deleted."


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Reads and inserts only. The bulk writes that would change or remove rows refuse here; the
    database refuses them too (a trigger on PostgreSQL, migration 0002), so raw SQL cannot either."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError(APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):  # type: ignore[no-untyped-def]
        raise ValueError(APPEND_ONLY)

    def delete(self):  # type: ignore[no-untyped-def]
        raise ValueError(APPEND_ONLY)

    delete.queryset_only = True  # type: ignore[attr-defined]  # as Django's own: not on the manager
    update.alters_data = bulk_update.alters_data = delete.alters_data = True  # type: ignore[attr-defined]

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError(APPEND_ONLY)


AuditEntryManager = models.Manager.from_queryset(AuditEntryQuerySet)


class AuditEntry(FastChoiceDisplay, models.Model):
    """Who did what to which object, when, from which state to which, and why. Append-only."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    action = models.CharField(_("action"), max_length=64)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = AuditEntryManager()

    class Meta:
        # Related-object access and Model.save() go through the base manager: make it this one,
        # so no path reaches the plain QuerySet's update()/delete().
        base_manager_name = "objects"
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.content_type.model}#{self.object_id} {self.action} {self.from_state}->{self.to_state}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValueError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError(APPEND_ONLY)
