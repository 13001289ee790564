"""Anti-spam handling (seed 002 §4, promise E4): the provider's abuse desk, spam cases with the
seed's steps and their evidence, the Internet Society of China's spam-server list publications
(E4-ISC) and the provider's own domain or IP listed by another anti-spam organisation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from monitoring.choices import MailSecurity
from sla.choices import ClockState
from sla.mirrors import KeepsClockFields
from slaportal.models import FastChoiceDisplay

from .choices import CaseKind, CaseSource, CaseState, EvidenceKind, PublicationState, StepCode, Verdict


class AbuseDesk(FastChoiceDisplay, models.Model):
    """The provider's anti-spam desk as seed 002 §4.2 requires it to be published (a contact
    person, a phone number, an abuse@ address) and the abuse mailbox the portal reads by IMAP.

    A single row (pk 1, a check constraint) rather than settings: managers change the contact
    person and the phone in the portal without a deployment, every customer sees the change at
    once, and the change is audited. The mailbox password is sealed (monitoring.sealing): the
    reader needs it in clear, so it cannot be hashed, and a database dump alone must not reveal it."""

    organisation = models.CharField(_("anti-spam desk"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=120)
    phone = models.CharField(_("phone"), max_length=40)
    email = models.EmailField(_("abuse address"))
    notice = models.TextField(_("notice to users"), blank=True,
                              help_text=_("What sending spam harms and its legal consequences."))
    imap_host = models.CharField(_("IMAP server"), max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(_("IMAP encryption"), max_length=10, choices=MailSecurity.choices,
                                     default=MailSecurity.TLS)
    imap_login = models.CharField(_("IMAP login"), max_length=200, blank=True)
    imap_password_sealed = models.TextField(blank=True, editable=False)
    imap_folder = models.CharField(_("IMAP folder"), max_length=200, default="INBOX")
    reading_enabled = models.BooleanField(_("read the abuse mailbox"), default=False)
    last_read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    last_read_error = models.CharField(_("last read error"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("abuse desk")
        verbose_name_plural = _("abuse desk")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="abusedesk_single_row")]

    def __str__(self) -> str:
        return self.email

    @property
    def has_password(self) -> bool:
        return bool(self.imap_password_sealed)


class SpamCase(FastChoiceDisplay, ConcurrentTransitionMixin, KeepsClockFields, models.Model):
    """One spam case: spam from outside (外域) or sent from the provider's own domain (本域),
    opened from an accepted complaint, an e-mail to the abuse address, or by staff after
    detection; worked through the seed's steps; timed by E4-RESP and E4-RESULT."""

    number = models.CharField(_("case number"), max_length=30, unique=True, null=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=CaseKind.choices)
    source = models.CharField(_("source"), max_length=10, choices=CaseSource.choices)
    state = FSMField(_("state"), default=CaseState.OPEN, choices=CaseState.choices, protected=True,
                     db_index=True)
    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="spam_case", verbose_name=_("complaint"))
    # The abuse mailbox's message: its Message-ID makes reading idempotent (the unique constraint
    # below, so two readers at once still make one case). A message without one gets
    # "<sha256:…>" of its bytes.
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    mail_from = models.CharField(_("from"), max_length=400, blank=True)
    mail_subject = models.CharField(_("mail subject"), max_length=400, blank=True)
    raw_message = models.FileField(_("message as received"), upload_to="abuse/mail/%Y/%m/",
                                   max_length=200, blank=True)
    raw_sha256 = models.CharField(max_length=64, blank=True)
    # The e-mail customer the case concerns (the complainant's organisation): owed the promise.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="spam_cases", verbose_name=_("customer"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="spam_cases", verbose_name=_("contract"))
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="spam_cases", verbose_name=_("e-mail service"))
    complainant_name = models.CharField(_("complainant"), max_length=200, blank=True)
    complainant_email = models.EmailField(_("complainant e-mail"), blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("opened by"))
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices, blank=True)
    result = models.TextField(_("result"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("closed by"))
    # The current E4-RESP and E4-RESULT clocks, kept here by the clock engine (sla.mirrors) in
    # the transaction of each clock change: the list reads columns, not a subquery per row.
    sla_resp_due_at = models.DateTimeField(_("response due at"), null=True, blank=True, editable=False)
    sla_resp_state = models.CharField(_("response clock state"), max_length=10, choices=ClockState.choices,
                                   blank=True, default="", editable=False)
    sla_resp_overdue = models.BooleanField(_("response overdue"), default=False, editable=False)
    sla_result_due_at = models.DateTimeField(_("result due at"), null=True, blank=True, editable=False)
    sla_result_state = models.CharField(_("result clock state"), max_length=10, choices=ClockState.choices,
                                     blank=True, default="", editable=False)
    sla_result_overdue = models.BooleanField(_("result overdue"), default=False, editable=False)

    class Meta:
        verbose_name = _("spam case")
        verbose_name_plural = _("spam cases")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="spamcase_customer_state"),
            models.Index(fields=["state", "opened_at"], name="spamcase_state_opened"),
            models.Index(fields=["-opened_at", "-id"], name="spamcase_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], condition=~models.Q(message_id=""),
                                    name="spamcase_message_id_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=CaseSource.MAILBOX) | ~models.Q(message_id=""),
                name="spamcase_mailbox_has_message_id"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN

    @property
    def has_complainant(self) -> bool:
        return bool(self.complainant_name.strip() or self.complainant_email.strip())

    @transition(field=state, source=CaseState.OPEN, target=CaseState.CLOSED)
    def close(self, *, at, by, verdict: str, result: str) -> None:  # type: ignore[no-untyped-def]
        self.closed_at, self.closed_by = at, by
        self.verdict, self.result = verdict, result

    @transition(field=state, source=CaseState.CLOSED, target=CaseState.OPEN)
    def reopen(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.closed_at, self.closed_by = None, None


class CaseStep(FastChoiceDisplay, models.Model):
    """One step of a case's checklist, done once: when, by whom, with a note and, for the steps
    that act on something, what (the account or IP found, the source blocked)."""

    case = models.ForeignKey(SpamCase, on_delete=models.CASCADE, related_name="steps",
                             verbose_name=_("spam case"))
    code = models.CharField(_("step"), max_length=20, choices=StepCode.choices)
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("done by"))
    value = models.CharField(_("account, IP or domain"), max_length=300, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")
        ordering = ["case", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "code"], name="casestep_unique")]

    def __str__(self) -> str:
        return str(self.get_code_display())

    @property
    def done(self) -> bool:
        return self.done_at is not None


def evidence_path(instance: CaseEvidence, filename: str) -> str:
    # Server-generated name only (as complaints' attachments): the original name is a field.
    return f"abuse/{instance.case_id}/{instance.stored_name}"


class CaseEvidence(FastChoiceDisplay, models.Model):
    """A file kept for a case: evidence, or the account holder's written guarantee (书面保证)
    without which an own-domain account is not restored. Checked by content at upload
    (slaportal.uploads), stored under a generated name, served only through scoped views."""

    case = models.ForeignKey(SpamCase, on_delete=models.PROTECT, related_name="evidence",
                             verbose_name=_("spam case"))
    step = models.ForeignKey(CaseStep, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="evidence", verbose_name=_("step"))
    kind = models.CharField(_("kind"), max_length=10, choices=EvidenceKind.choices,
                            default=EvidenceKind.EVIDENCE)
    file = models.FileField(upload_to=evidence_path, max_length=200)
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")

    class Meta:
        verbose_name = _("case evidence")
        verbose_name_plural = _("case evidence")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class IscPublication(FastChoiceDisplay, KeepsClockFields, models.Model):
    """A spam-server list published by the Internet Society of China (互联网协会): processed within
    one working day of publication (seed 002 §4.2 d, clock E4-ISC), with what was blocked."""

    reference = models.CharField(_("reference"), max_length=200)
    published_at = models.DateTimeField(_("published at"))
    url = models.URLField(_("address"), max_length=500, blank=True)
    file = models.FileField(upload_to="abuse/isc/", max_length=200, blank=True)
    file_type = models.CharField(max_length=80, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    state = models.CharField(_("state"), max_length=10, choices=PublicationState.choices,
                             default=PublicationState.OPEN, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    processed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("processed by"))
    blocked = models.TextField(_("what was blocked"), blank=True)
    # The current E4-ISC clock, kept by the clock engine (sla.mirrors).
    sla_due_at = models.DateTimeField(_("processing due at"), null=True, blank=True, editable=False)
    sla_state = models.CharField(_("processing clock state"), max_length=10, choices=ClockState.choices,
                              blank=True, default="", editable=False)
    sla_overdue = models.BooleanField(_("processing overdue"), default=False, editable=False)

    class Meta:
        verbose_name = _("ISC list publication")
        verbose_name_plural = _("ISC list publications")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["-published_at", "-id"], name="iscpub_recent")]
        constraints = [models.UniqueConstraint(fields=["reference"], name="iscpublication_reference_unique")]

    def __str__(self) -> str:
        return self.reference


class BlacklistListing(FastChoiceDisplay, models.Model):
    """The provider's own domain or IP put on the reject list of another anti-spam organisation
    (seed 002 §4.2 i): recorded, and reported to the Internet Society of China."""

    organisation = models.CharField(_("organisation"), max_length=200)
    listed_item = models.CharField(_("domain or IP listed"), max_length=253)
    listed_at = models.DateTimeField(_("listed at"))
    url = models.URLField(_("address"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    reported_at = models.DateTimeField(_("reported to the ISC at"), null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("reported by"))
    report_note = models.TextField(_("report"), blank=True)

    class Meta:
        verbose_name = _("blacklist listing")
        verbose_name_plural = _("blacklist listings")
        ordering = ["-listed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.organisation}: {self.listed_item}"
