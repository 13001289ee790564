"""Service requests (服务请求): a customer's inquiry, technical question, service change, payment
and renewal question or installation-progress question, handled by the service's dedicated
specialist (or engineer), with replies, internal notes, attachments, mail read from the service
mailbox, agreed service changes and contract-renewal reminders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from sla.choices import ClockState
from sla.mirrors import KeepsClockFields
from slaportal.models import FastChoiceDisplay

from .choices import (
    ChangeState,
    EntryKind,
    InboundOutcome,
    RequestChannel,
    RequestKind,
    RequestState,
)

S = RequestState


class ServiceRequest(FastChoiceDisplay, ConcurrentTransitionMixin, KeepsClockFields, models.Model):
    """One request to customer service or technical support (seed 000 §5, §6; seed 002 §9),
    with a first-response clock (SR-FIRST) and a resolution clock (SR-RESOLVE)."""

    number = models.CharField(_("request number"), max_length=30, unique=True, null=True,
                              editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="service_requests", verbose_name=_("customer"))
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="service_requests", verbose_name=_("service"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="service_requests",
                                 verbose_name=_("contract"))
    installation_order = models.ForeignKey(
        "orders.InstallationOrder", on_delete=models.PROTECT, null=True, blank=True,
        related_name="service_requests", verbose_name=_("installation order"))
    kind = models.CharField(_("kind"), max_length=20, choices=RequestKind.choices)
    channel = models.CharField(_("received by"), max_length=10, choices=RequestChannel.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    contact = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="service_requests",
                                verbose_name=_("contact"))
    requester_name = models.CharField(_("requester"), max_length=120, blank=True)
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="service_requests_assigned",
                                 verbose_name=_("assigned to"))
    state = FSMField(_("state"), default=S.NEW, choices=S.choices, protected=True)
    opened_at = models.DateTimeField(_("opened at"))
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("logged by"))
    # The current SR-FIRST and SR-RESOLVE clocks, kept by the clock engine (sla.mirrors) in the
    # transaction of each clock change: the list reads columns, not subqueries per row.
    sla_first_due_at = models.DateTimeField(_("first response due at"), null=True, blank=True, editable=False)
    sla_first_state = models.CharField(_("first response clock state"), max_length=10, choices=ClockState.choices,
                                    blank=True, default="", editable=False)
    sla_first_overdue = models.BooleanField(_("first response overdue"), default=False, editable=False)
    sla_first_paused_at = models.DateTimeField(_("first response clock paused at"), null=True, blank=True,
                                              editable=False)
    sla_resolve_due_at = models.DateTimeField(_("resolution due at"), null=True, blank=True, editable=False)
    sla_resolve_state = models.CharField(_("resolution clock state"), max_length=10, choices=ClockState.choices,
                                      blank=True, default="", editable=False)
    sla_resolve_overdue = models.BooleanField(_("resolution overdue"), default=False, editable=False)
    sla_resolve_paused_at = models.DateTimeField(_("resolution clock paused at"), null=True, blank=True,
                                                editable=False)

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="sr_customer_state"),
            models.Index(fields=["assignee", "state"], name="sr_assignee_state"),
            models.Index(fields=["state", "opened_at"], name="sr_state_opened"),
            models.Index(fields=["-opened_at", "-id"], name="sr_recent"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def requester_display(self) -> str:
        contact = self.contact if self.contact_id else None
        return contact.name if contact is not None else self.requester_name

    @property
    def is_open(self) -> bool:
        return self.state in (S.NEW, S.IN_PROGRESS, S.WAITING)

    # --- transitions: fields and timestamps only; services lock, audit, run clocks, notify.
    @transition(field=state, source=S.NEW, target=S.IN_PROGRESS)
    def start(self, *, at) -> None:  # type: ignore[no-untyped-def]
        pass

    @transition(field=state, source=[S.NEW, S.IN_PROGRESS], target=S.WAITING)
    def wait(self, *, at) -> None:  # type: ignore[no-untyped-def]
        pass

    @transition(field=state, source=S.WAITING, target=S.IN_PROGRESS)
    def resume(self, *, at) -> None:  # type: ignore[no-untyped-def]
        pass

    @transition(field=state, source=[S.NEW, S.IN_PROGRESS, S.WAITING], target=S.RESOLVED)
    def resolve(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.resolved_at = at

    @transition(field=state, source=S.RESOLVED, target=S.CLOSED)
    def close(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.closed_at = at

    @transition(field=state, source=[S.RESOLVED, S.CLOSED], target=S.IN_PROGRESS)
    def reopen(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.resolved_at = None
        self.closed_at = None

    @transition(field=state, source=[S.NEW, S.IN_PROGRESS, S.WAITING], target=S.CANCELLED)
    def cancel(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.cancelled_at = at


class RequestEntry(FastChoiceDisplay, models.Model):
    """One entry of a request's thread: a reply (staff or customer; the customer sees it) or an
    internal note (staff only: never on a customer's page, in the API for customers, or in mail)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    by_staff = models.BooleanField(_("by staff"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("author"))
    author_contact = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="+")
    from_email = models.EmailField(_("from"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=RequestChannel.choices)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("written at"))

    class Meta:
        verbose_name = _("request entry")
        verbose_name_plural = _("request entries")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "kind", "created_at"], name="sr_entry_thread")]

    def __str__(self) -> str:
        return f"{self.request} · {self.get_kind_display()}"

    @property
    def author_display(self) -> str:
        if self.author_id and self.author is not None:
            return self.author.get_full_name() or self.author.get_username()
        if self.author_contact_id and self.author_contact is not None:
            return self.author_contact.name
        return self.from_email


def attachment_path(instance: RequestAttachment, filename: str) -> str:
    # Server-generated name only; the original name is kept in a field, never on disk.
    return f"servicedesk/{instance.request_id}/{instance.stored_name}"


class RequestAttachment(FastChoiceDisplay, models.Model):
    """A file attached to a request (checked by content like complaints', stored under a
    generated name, always downloaded as an attachment). An attachment of an internal note is
    staff-only like the note."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="attachments")
    entry = models.ForeignKey(RequestEntry, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="attachments")
    internal = models.BooleanField(default=False)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class InboundMail(FastChoiceDisplay, models.Model):
    """One message read from the service mailbox, recorded once per Message-ID (the unique
    constraint is what makes reading twice harmless). What became of it is `outcome`; an
    unmatched or forged one stays here for staff (servicedesk:mailbox page) and is never
    appended to a request by itself."""

    message_id = models.CharField(_("Message-ID"), max_length=500)
    from_address = models.EmailField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("text"), blank=True)
    received_at = models.DateTimeField(_("read at"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=InboundOutcome.choices)
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="inbound_mail", verbose_name=_("request"))
    entry = models.OneToOneField(RequestEntry, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="inbound_mail")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbound mail")
        verbose_name_plural = _("inbound mail")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["message_id"], name="inboundmail_message_id_once")]
        indexes = [models.Index(fields=["outcome", "received_at"], name="inboundmail_outcome")]

    def __str__(self) -> str:
        return self.message_id


class ServiceChange(FastChoiceDisplay, models.Model):
    """A service change agreed with the customer (服务内容变更): the new values of fields of the
    service record, applied through customers.services (audited there), and the authorized
    operation that carries out any work on the customer's equipment."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="changes")
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT,
                                related_name="agreed_changes", verbose_name=_("service"))
    changes = models.JSONField(_("new values"))
    previous = models.JSONField(_("values before"), default=dict, blank=True)
    note = models.TextField(_("what was agreed"), blank=True)
    needs_operation = models.BooleanField(_("needs work on the customer's equipment"), default=False)
    operation = models.ForeignKey("operations.OperationRequest", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="service_changes",
                                  verbose_name=_("authorized operation"))
    state = models.CharField(_("state"), max_length=10, choices=ChangeState.choices,
                             default=ChangeState.AGREED)
    agreed_at = models.DateTimeField(_("agreed at"))
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")

    class Meta:
        verbose_name = _("service change")
        verbose_name_plural = _("service changes")
        ordering = ["agreed_at", "id"]

    def __str__(self) -> str:
        return f"{self.request} · {self.service}"

    @property
    def changes_display(self) -> list[tuple[str, object]]:
        """(field label, new value) pairs, labelled in the page's language."""
        from customers.models import Service

        return [(str(getattr(Service._meta.get_field(k), "verbose_name", k)), v) for k, v in self.changes.items()]


class RenewalReminder(FastChoiceDisplay, models.Model):
    """The reminder of a contract's end sent `threshold` days before it, and the renewal request
    it opened. One per contract, end date and threshold (the unique constraint is what keeps a
    second run of the daily task from reminding or opening twice); the end date is part of the
    key so a contract whose term is extended is reminded again before its new end."""

    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT,
                                 related_name="renewal_reminders", verbose_name=_("contract"))
    ends_on = models.DateField(_("ends on"))
    threshold = models.PositiveSmallIntegerField(_("days before the end"))
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="renewal_reminders", verbose_name=_("renewal request"))
    created_at = models.DateTimeField(_("reminded at"))

    class Meta:
        verbose_name = _("renewal reminder")
        verbose_name_plural = _("renewal reminders")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["contract", "ends_on", "threshold"],
                                               name="renewalreminder_once")]

    def __str__(self) -> str:
        return f"{self.contract} · {self.threshold}"
