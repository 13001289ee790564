"""Authorized operations (授权下的服务器操作): an authorized contact asks for work on the customer's
equipment; nothing is started before an authorization is accepted (seed 第六条、第七条)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from slaportal.models import FastChoiceDisplay

from .choices import (
    AuthorizationMethod,
    AuthorizationStatus,
    OperationState,
    PhoneAttemptResult,
    Urgency,
)

S = OperationState


class AppendOnlyQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """Bulk update and delete would bypass the row-level refusals below; refuse them too."""

    def update(self, **kwargs: Any) -> int:
        raise ValueError(f"{self.model.__name__} rows cannot be changed in bulk.")

    def delete(self) -> Any:
        raise ValueError(f"{self.model.__name__} rows cannot be deleted.")


def has_accepted_authorization(operation: models.Model) -> bool:
    """The transition condition that makes starting without authorization impossible: at least
    one authorization of this operation has been accepted."""
    if operation.pk is None:
        return False
    return Authorization.objects.filter(operation_id=operation.pk,
                                        status=AuthorizationStatus.ACCEPTED).exists()


class OperationRequest(FastChoiceDisplay, ConcurrentTransitionMixin, models.Model):
    """A request for an operation on one of the customer's services, made by (or on behalf of)
    one of the customer's designated authorized contacts."""

    number = models.CharField(_("operation number"), max_length=30, unique=True, null=True,
                              editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="operations", verbose_name=_("customer"))
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT,
                                related_name="operations", verbose_name=_("service / device"))
    requested_by = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT,
                                     related_name="operation_requests",
                                     verbose_name=_("requested by (authorized contact)"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what is to be done"))
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.NORMAL)
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="operations_assigned",
                                 verbose_name=_("engineer"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("raised by"))
    state = FSMField(_("state"), default=S.REQUESTED, choices=S.choices, protected=True)
    requested_at = models.DateTimeField(_("requested at"))
    authorized_at = models.DateTimeField(_("authorized at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("refused or cancelled at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    end_reason = models.TextField(_("reason for refusal or cancellation"), blank=True)

    class Meta:
        verbose_name = _("operation request")
        verbose_name_plural = _("operation requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="operation_customer_state"),
            models.Index(fields=["-requested_at", "-id"], name="operation_recent"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.service_id and self.customer_id and self.service.customer_id != self.customer_id:
            errors["service"] = _("This service belongs to another customer.")
        if self.requested_by_id and self.customer_id and self.requested_by.customer_id != self.customer_id:
            errors["requested_by"] = _("This contact belongs to another customer.")
        if errors:
            raise ValidationError(errors)

    # --- transitions: fields and timestamps only; services lock, audit, start clocks, notify.
    @transition(field=state, source=S.REQUESTED, target=S.AUTHORIZED,
                conditions=[has_accepted_authorization])
    def authorize(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.authorized_at = at

    @transition(field=state, source=S.AUTHORIZED, target=S.IN_PROGRESS,
                conditions=[has_accepted_authorization])
    def start(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.started_at = at

    @transition(field=state, source=S.IN_PROGRESS, target=S.FINISHED)
    def finish(self, *, at, result: str = "") -> None:  # type: ignore[no-untyped-def]
        self.finished_at = at
        self.result = result

    @transition(field=state, source=S.FINISHED, target=S.REPORTED)
    def report(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.reported_at = at

    @transition(field=state, source=S.REPORTED, target=S.CLOSED)
    def close(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.closed_at = at

    @transition(field=state, source=S.REQUESTED, target=S.REFUSED)
    def refuse(self, *, at, reason: str = "") -> None:  # type: ignore[no-untyped-def]
        self.ended_at = at
        self.end_reason = reason

    @transition(field=state, source=[S.REQUESTED, S.AUTHORIZED], target=S.CANCELLED)
    def cancel(self, *, at, reason: str = "") -> None:  # type: ignore[no-untyped-def]
        self.ended_at = at
        self.end_reason = reason


def authorization_path(instance: Authorization, filename: str) -> str:
    # Server-generated name only; the name the user gave is kept in a field, never on disk.
    return f"operations/{instance.operation_id}/{instance.stored_name}"


class Authorization(FastChoiceDisplay, models.Model):
    """One authorization of an operation: a signed written document (书面授权) or a verified phone
    call (电话授权). Once decided it never changes and is never deleted; a correction is a new
    record that points at the one it corrects."""

    operation = models.ForeignKey(OperationRequest, on_delete=models.PROTECT,
                                  related_name="authorizations", verbose_name=_("operation"))
    method = models.CharField(_("method"), max_length=10, choices=AuthorizationMethod.choices)
    status = models.CharField(_("status"), max_length=10, choices=AuthorizationStatus.choices,
                              default=AuthorizationStatus.PENDING)
    contact = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT,
                                related_name="authorizations",
                                verbose_name=_("authorizing contact"))
    signed_on = models.DateField(_("signed / given on"))
    # Written authorizations: the uploaded scan or PDF.
    file = models.FileField(upload_to=authorization_path, max_length=200, blank=True)
    stored_name = models.CharField(max_length=80, blank=True, editable=False)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    content_type = models.CharField(max_length=80, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # Phone authorizations: the accepted attempt.
    phone_attempt = models.OneToOneField("PhoneAttempt", on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="authorization")
    corrects = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="corrected_by", verbose_name=_("corrects"))
    note = models.TextField(_("note"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("received by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decision_reason = models.TextField(_("reason"), blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("authorization")
        verbose_name_plural = _("authorizations")
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["operation", "status"], name="authorization_op_status")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} #{self.pk}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Only a pending (not yet checked) written authorization may be updated, once, to its
        # decision; a decided record is evidence of who authorized what.
        if self.pk is not None:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored is not None and stored != AuthorizationStatus.PENDING:
                raise ValueError("A decided authorization is immutable; record a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("An authorization cannot be deleted.")


class PhoneAttempt(FastChoiceDisplay, models.Model):
    """Every phone-authorization attempt, right or wrong, with the engineer and the time. The
    password the caller gave is never stored; only whether it matched."""

    operation = models.ForeignKey(OperationRequest, on_delete=models.PROTECT,
                                  related_name="phone_attempts", verbose_name=_("operation"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="phone_attempts", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT,
                                related_name="phone_attempts", verbose_name=_("caller (contact)"))
    caller_name = models.CharField(_("caller as announced"), max_length=120, blank=True)
    caller_phone = models.CharField(_("calling number"), max_length=40, blank=True)
    mrtg_username_given = models.CharField(_("MRTG user name given"), max_length=120, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=PhoneAttemptResult.choices)
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("engineer"))
    at = models.DateTimeField(_("at"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("phone authorization attempt")
        verbose_name_plural = _("phone authorization attempts")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["customer", "result", "at"], name="phoneattempt_window")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_result_display()}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValueError("Phone attempts are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Phone attempts cannot be deleted.")


class PhoneAuthLock(FastChoiceDisplay, models.Model):
    """Phone authorization for a customer locked after too many wrong attempts in the window."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="phone_locks", verbose_name=_("customer"))
    locked_at = models.DateTimeField(_("locked at"))
    locked_until = models.DateTimeField(_("locked until"))
    failures = models.PositiveSmallIntegerField(_("wrong attempts"))
    # The wrong phone attempt that reached the limit; empty when a wrong MRTG password on another
    # channel (the read-only traffic view) did: the count is shared, the lock is one.
    triggered_by = models.ForeignKey(PhoneAttempt, on_delete=models.PROTECT, related_name="+", null=True,
                                     blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("phone authorization lock")
        verbose_name_plural = _("phone authorization locks")
        ordering = ["-locked_at", "-id"]
        indexes = [models.Index(fields=["customer", "locked_until"], name="phonelock_customer")]

    def __str__(self) -> str:
        return f"{self.customer} {self.locked_at:%Y-%m-%d %H:%M} → {self.locked_until:%H:%M}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValueError("Locks are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Locks cannot be deleted.")


class OperationStep(FastChoiceDisplay, models.Model):
    """A step the engineer logged while the operation was in progress, with its time."""

    operation = models.ForeignKey(OperationRequest, on_delete=models.PROTECT, related_name="steps")
    done_at = models.DateTimeField(_("done at"))
    description = models.TextField(_("what was done"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("operation step")
        verbose_name_plural = _("operation steps")
        ordering = ["done_at", "id"]

    def __str__(self) -> str:
        return f"{self.done_at:%Y-%m-%d %H:%M} {self.description[:40]}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValueError("Steps are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Steps cannot be deleted.")


class OperationMessage(FastChoiceDisplay, models.Model):
    """A feedback message to the customer (e-mail and portal). The first one after the
    authorization meets clock C5 (第七条: first feedback within 30 minutes)."""

    operation = models.ForeignKey(OperationRequest, on_delete=models.PROTECT, related_name="messages")
    body = models.TextField(_("message"))
    sent_at = models.DateTimeField(_("sent at"))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("sent by"))
    first = models.BooleanField(_("first feedback"), default=False, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("feedback message")
        verbose_name_plural = _("feedback messages")
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M} {self.body[:40]}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise ValueError("Messages are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("Messages cannot be deleted.")
