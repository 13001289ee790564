from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckKind(models.TextChoices):
    """What a target checks (SPEC: device reachability, and the www, e-mail and ftp applications)."""

    DEVICE = "device", _("Device reachability")
    WWW = "www", _("WWW (HTTP/HTTPS)")
    SMTP = "smtp", _("E-mail (SMTP banner)")
    FTP = "ftp", _("FTP (banner)")


class ProbeMethod(models.TextChoices):
    """How a probe was actually made: device reachability uses ICMP where the process may send
    it and falls back to a TCP connect otherwise."""

    ICMP = "icmp", _("ICMP echo")
    TCP = "tcp", _("TCP connect")
    HTTP = "http", _("HTTP request")
    SMTP = "smtp", _("SMTP banner")
    FTP = "ftp", _("FTP banner")


class TargetState(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    UP = "up", _("up")
    FAILING = "failing", _("failing (one failed probe)")
    DOWN = "down", _("down (emergency declared)")
