"""Every notification attempt, one row each, written before anything is sent."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import Channel, Status


class Notification(FastChoiceDisplay, models.Model):
    """One attempt to tell one address something over one channel. The idempotency key makes
    a retried sweep or task find the row it already wrote instead of sending twice."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=254, blank=True)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=40)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"))
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    related = GenericForeignKey("content_type", "object_id")
    status = models.CharField(_("outcome"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    attempted_at = models.DateTimeField(_("attempted at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # A row being sent is leased to one process ("host:pid"). A sender that dies mid-send leaves
    # the row 'sending' with a lease that runs out; the next sender takes it up again. A crash
    # between "accepted by the server" and saving the outcome can at worst send it twice, never lose
    # it: every attempt is counted and the final detail says what happened.
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="notification_related"),
            # The sender's claim: pending rows oldest first, and leases that ran out.
            models.Index(fields=["created_at", "id"], name="notification_pending",
                         condition=models.Q(status="pending")),
            models.Index(fields=["lease_expires_at"], name="notification_leased",
                         condition=models.Q(status="sending")),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address}: {self.subject}"


class InboxItem(FastChoiceDisplay, models.Model):
    """One event told to one portal user, shown in their in-app notification centre. Written in
    the same transaction as the notification rows of the event (the in-app channel,
    notifications.channels.inbox); the same event on several channels (e-mail and SMS) is one item.
    What it links to is computed when shown, from the related object (like the notification log)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="inbox_items", verbose_name=_("user"))
    # The event, without channel and address: "clock:5:warning:user:3" for
    # "clock:5:warning:user:3:email" and its SMS twin. (user, event_key) is unique, so a retried
    # or re-enqueued event never makes a second item.
    event_key = models.CharField(_("event key"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=300)
    summary = models.TextField(_("summary"), blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    related = GenericForeignKey("content_type", "object_id")
    notification = models.ForeignKey(Notification, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("notification"))
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbox item")
        verbose_name_plural = _("inbox items")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event_key"], name="inbox_item_one_per_event"),
        ]
        indexes = [
            # The list, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="inbox_user_recent"),
            # The header's unread count on every page, and the unread filter.
            models.Index(fields=["user", "-created_at"], name="inbox_user_unread",
                         condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"
