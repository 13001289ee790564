"""Choices of the anti-spam workflow (seed 002 §4 反垃圾邮件保障). The step labels keep the seed's
wording; their Chinese is in the catalogue."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    INBOUND = "inbound", _("Spam from outside")  # 外域发来的垃圾邮件
    OUTBOUND = "outbound", _("Spam sent from the provider's domain")  # 本域发送的垃圾邮件


class CaseSource(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    MAILBOX = "mailbox", _("Abuse mailbox")
    STAFF = "staff", _("Detected by staff")


class CaseState(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class Verdict(models.TextChoices):
    SPAM = "spam", _("Spam confirmed")
    NOT_SPAM = "not_spam", _("Not spam")


class StepCode(models.TextChoices):
    """Every step of both checklists; CHECKLISTS says which kind has which, in order."""

    KEEP_EVIDENCE = "keep_evidence", _("Keep the necessary information as evidence")
    IDENTIFY_SOURCE = "identify_source", _("Identify the spam source (mail account or sending server IP)")
    REPORT_ISC = "report_isc", _("Report to the Internet Society of China")
    COMPLAIN_PROVIDER = "complain_provider", _("Complain to the sender's provider and NSP")
    BLOCK_SOURCE = "block_source", _("Block the spam source")
    UNBLOCK_SOURCE = "unblock_source", _("Lift the block once the source has stopped sending spam")
    IDENTIFY_ACCOUNT = "identify_account", _("Identify the sending account of the provider's domain")
    SUSPEND_ACCOUNT = "suspend_account", _("Suspend the mail account's service")
    NOTIFY_RESULT = "notify_result", _("Tell the complainant the result")
    RESTORE_ACCOUNT = "restore_account", _("Restore the mail account after a written guarantee")


S = StepCode
# Seed 002 §4.2 a–c (外域) and e–h (本域). The result goes to the complainant in both kinds: the
# E4 promise (SPEC) times the result of every spam complaint, not only the own-domain ones.
CHECKLISTS: dict[str, tuple[str, ...]] = {
    CaseKind.INBOUND: (S.KEEP_EVIDENCE, S.IDENTIFY_SOURCE, S.REPORT_ISC, S.COMPLAIN_PROVIDER,
                       S.BLOCK_SOURCE, S.NOTIFY_RESULT, S.UNBLOCK_SOURCE),
    CaseKind.OUTBOUND: (S.KEEP_EVIDENCE, S.IDENTIFY_ACCOUNT, S.SUSPEND_ACCOUNT, S.NOTIFY_RESULT,
                        S.RESTORE_ACCOUNT),
}

# Steps that must name what they acted on (the account or IP found, the source blocked).
VALUE_STEPS = {S.IDENTIFY_SOURCE, S.IDENTIFY_ACCOUNT, S.BLOCK_SOURCE, S.SUSPEND_ACCOUNT}
# A step that undoes another needs that one done first.
REQUIRES: dict[str, str] = {S.UNBLOCK_SOURCE: S.BLOCK_SOURCE, S.RESTORE_ACCOUNT: S.SUSPEND_ACCOUNT}


class EvidenceKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")
    GUARANTEE = "guarantee", _("Written guarantee")  # 书面保证


class PublicationState(models.TextChoices):
    OPEN = "open", _("to be processed")
    PROCESSED = "processed", _("processed")
