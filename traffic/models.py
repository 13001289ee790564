"""Switch ports of hosting services (seed 000 §6 1.1: 数据流量统计页面), their consolidated traffic
rates and the 5-minute samples kept for the monthly 95th percentile. Every table is bounded per
port: the rings hold a constant number of rows, the day series at most RETAIN_DAYS rows."""

from __future__ import annotations

import struct
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import AuthProtocol, PrivProtocol, SnmpVersion

POLL_INTERVAL = 300
# One packed 5-minute sample of a TrafficDay: slot of the day (0..287), in bit/s, out bit/s.
SAMPLE = struct.Struct("<Hff")


class SwitchPort(FastChoiceDisplay, models.Model):
    """One switch port carrying a hosting service's traffic: where to poll it (device, SNMP
    credentials sealed with monitoring.sealing, never shown after saving), which interface, and
    the poller's state (last counters and uptime, for the next rate)."""

    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, related_name="switch_ports",
                                verbose_name=_("service"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="switch_ports",
                                 verbose_name=_("customer"), editable=False)
    name = models.CharField(_("name"), max_length=120, blank=True)
    device_address = models.CharField(_("device address"), max_length=255)
    snmp_port = models.PositiveIntegerField(_("SNMP UDP port"), default=161,
                                            validators=[MinValueValidator(1), MaxValueValidator(65535)])
    port_number = models.CharField(_("port number"), max_length=40, blank=True,
                                   help_text=_("The port as labelled on the switch, for people."))
    interface = models.CharField(_("interface"), max_length=120,
                                 help_text=_("An ifIndex number, or the interface's ifName or ifDescr."))
    if_index = models.PositiveIntegerField(_("ifIndex"), null=True, blank=True, editable=False)
    snmp_version = models.CharField(_("SNMP version"), max_length=4, choices=SnmpVersion.choices,
                                    default=SnmpVersion.V2C)
    community_sealed = models.TextField(blank=True, editable=False)
    v3_user = models.CharField(_("SNMP v3 user"), max_length=64, blank=True)
    v3_auth_protocol = models.CharField(_("authentication protocol"), max_length=8,
                                        choices=AuthProtocol.choices, default=AuthProtocol.SHA)
    v3_auth_key_sealed = models.TextField(blank=True, editable=False)
    v3_priv_protocol = models.CharField(_("privacy protocol"), max_length=8,
                                        choices=PrivProtocol.choices, default=PrivProtocol.AES)
    v3_priv_key_sealed = models.TextField(blank=True, editable=False)
    max_bps = models.PositiveBigIntegerField(
        _("line speed (bit/s)"), default=100_000_000_000,
        help_text=_("A counter that went back is a wrap only if the rate it implies is at most this."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Poller state: written by the poller only.
    next_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    counter_bits = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True, editable=False)
    last_uptime = models.BigIntegerField(null=True, blank=True, editable=False)
    # 64-bit counters do not fit a signed bigint: numeric(20, 0).
    last_in_octets = models.DecimalField(max_digits=20, decimal_places=0, null=True, blank=True, editable=False)
    last_out_octets = models.DecimalField(max_digits=20, decimal_places=0, null=True, blank=True, editable=False)
    last_sample_at = models.DateTimeField(_("last sample at"), null=True, blank=True, editable=False)
    last_in_bps = models.FloatField(null=True, blank=True, editable=False)
    last_out_bps = models.FloatField(null=True, blank=True, editable=False)
    last_detail = models.CharField(_("last result"), max_length=300, blank=True, editable=False)

    class Meta:
        verbose_name = _("switch port")
        verbose_name_plural = _("switch ports")
        ordering = ["customer__name", "service__name", "device_address", "id"]
        indexes = [models.Index(fields=["active", "next_due_at"], name="switchport_due")]

    def __str__(self) -> str:
        return self.name or f"{self.device_address} {self.port_number or self.interface}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.customer_id = self.service.customer_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from customers.choices import ServiceKind

        errors: dict[str, Any] = {}
        if self.service_id and self.service.kind == ServiceKind.EMAIL:
            errors["service"] = _("Switch ports belong to a hosting service, not an e-mail service.")
        if self.snmp_version == SnmpVersion.V3 and not self.v3_user:
            errors["v3_user"] = _("SNMP v3 needs a user name.")
        if self.snmp_version == SnmpVersion.V3 and self.v3_priv_protocol != PrivProtocol.NONE \
                and self.v3_auth_protocol == AuthProtocol.NONE:
            errors["v3_priv_protocol"] = _("Privacy needs an authentication protocol.")
        if errors:
            raise ValidationError(errors)


class TrafficSlot(FastChoiceDisplay, models.Model):
    """One slot of a port's round-robin ring at one resolution (choices.RINGS): the average and
    maximum in/out bit rates of the samples in the bucket starting at `start_at`. A slot whose
    bucket has passed is overwritten in place, so rows per port never grow."""

    port = models.ForeignKey(SwitchPort, on_delete=models.CASCADE, related_name="slots")
    resolution = models.PositiveIntegerField()
    slot = models.PositiveIntegerField()
    start_at = models.DateTimeField()
    samples = models.PositiveIntegerField(default=0)
    in_avg = models.FloatField(default=0)
    out_avg = models.FloatField(default=0)
    in_max = models.FloatField(default=0)
    out_max = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["port", "resolution", "slot"], name="trafficslot_ring")]


class TrafficDay(FastChoiceDisplay, models.Model):
    """The 5-minute samples of one port on one local day, packed (slot of day, in, out: 10 bytes
    each, at most 288 a day): what the monthly 95th percentile is computed from. Days older than
    RETAIN_DAYS are deleted, so a port keeps at most that many rows."""

    port = models.ForeignKey(SwitchPort, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    data = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["port", "day"], name="trafficday_port_day")]
        indexes = [models.Index(fields=["day"], name="trafficday_day")]  # the daily prune


class MrtgLoginAttempt(FastChoiceDisplay, models.Model):
    """Every sign-in on the MRTG traffic view (/traffic/mrtg/), right or wrong, with the client
    address: the rate limit and the lockout count these. The password given is never stored."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    contact = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    username_given = models.CharField(_("user name given"), max_length=120, blank=True)
    ok = models.BooleanField(_("succeeded"), default=False)
    locked = models.BooleanField(_("locked"), default=False)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("MRTG sign-in attempt")
        verbose_name_plural = _("MRTG sign-in attempts")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "ok", "at"], name="mrtgattempt_window"),
                   models.Index(fields=["client_ip", "at"], name="mrtgattempt_ip")]
