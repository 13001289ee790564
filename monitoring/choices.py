from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckKind(models.TextChoices):
    """What a target checks (SPEC: device reachability, and the www, e-mail and ftp applications)."""

    DEVICE = "device", _("Device reachability")
    WWW = "www", _("WWW (HTTP/HTTPS)")
    SMTP = "smtp", _("E-mail (SMTP banner)")
    FTP = "ftp", _("FTP (banner)")
    # E1 mailbox connectivity (seed 002 §1): checks of a probe mailbox (monitoring.Mailbox).
    SUBMISSION = "submission", _("Mail submission (SMTP with AUTH)")
    IMAP = "imap", _("IMAP login")
    POP3 = "pop3", _("POP3 login")
    WEBMAIL = "webmail", _("Webmail page")
    MAIL_LOOP = "mailloop", _("Mail loop (send and fetch back)")


# The checks that belong to a probe mailbox and are run with its credentials.
MAIL_KINDS = frozenset({CheckKind.SUBMISSION, CheckKind.IMAP, CheckKind.POP3, CheckKind.WEBMAIL,
                        CheckKind.MAIL_LOOP})


class ProbeMethod(models.TextChoices):
    """How a probe was actually made: device reachability uses ICMP where the process may send
    it and falls back to a TCP connect otherwise."""

    ICMP = "icmp", _("ICMP echo")
    TCP = "tcp", _("TCP connect")
    HTTP = "http", _("HTTP request")
    SMTP = "smtp", _("SMTP banner")
    FTP = "ftp", _("FTP banner")
    SUBMIT = "submit", _("SMTP submission")
    IMAP = "imap", _("IMAP login")
    POP3 = "pop3", _("POP3 login")
    LOOP = "mailloop", _("mail loop")


class MailSecurity(models.TextChoices):
    """How a probe mailbox's client connects: plain (test rigs, internal networks), upgraded with
    STARTTLS, or TLS from the first byte (465, 993, 995)."""

    NONE = "none", _("no encryption")
    STARTTLS = "starttls", _("upgrade with STARTTLS")
    TLS = "tls", _("encrypted from the start (TLS)")


class TargetState(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    UP = "up", _("up")
    FAILING = "failing", _("failing (one failed probe)")
    DOWN = "down", _("down (emergency declared)")
