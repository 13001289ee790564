"""Customers, their contracts and services, their authorized contacts and their portal users."""

from __future__ import annotations

import calendar
import hmac
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import ContactChannel, Language, ServiceKind

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

ZERO = Decimal("0.00")


class Customer(FastChoiceDisplay, models.Model):
    """A customer organisation (甲方). Every customer-owned object hangs off one of these."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices,
                                default=Language.ZH)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contract(FastChoiceDisplay, models.Model):
    """A signed service agreement: one-year term by default, fees in CNY as Decimal."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts",
                                 verbose_name=_("customer"))
    number = models.CharField(_("contract number"), max_length=60, unique=True)
    signed_at = models.DateTimeField(_("signed at"))
    starts_on = models.DateField(_("starts on"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"), default=12,
                                                   validators=[MinValueValidator(1)])
    monthly_fee = models.DecimalField(_("monthly fee (CNY)"), max_digits=12, decimal_places=2,
                                      validators=[MinValueValidator(ZERO)])
    installation_fee = models.DecimalField(_("installation fee (CNY)"), max_digits=12,
                                           decimal_places=2, default=ZERO,
                                           validators=[MinValueValidator(ZERO)])
    currency = models.CharField(_("currency"), max_length=3, default="CNY", editable=False)
    # Seed clause: an outage the customer did not report within 5 days is not counted.
    exclude_unreported_outages = models.BooleanField(
        _("exclude outages not reported within 5 days"), default=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(monthly_fee__gte=0),
                                   name="contract_monthly_fee_nonnegative"),
            models.CheckConstraint(condition=models.Q(installation_fee__gte=0),
                                   name="contract_installation_fee_nonnegative"),
        ]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        errors = {}
        if self.monthly_fee is not None and self.monthly_fee < 0:
            errors["monthly_fee"] = _("A fee cannot be negative.")
        if self.installation_fee is not None and self.installation_fee < 0:
            errors["installation_fee"] = _("A fee cannot be negative.")
        if errors:
            raise ValidationError(errors)

    @property
    def ends_on(self) -> date:
        month = self.starts_on.month - 1 + self.term_months
        year = self.starts_on.year + month // 12
        month = month % 12 + 1
        day = min(self.starts_on.day, calendar.monthrange(year, month)[1])
        return date(year, month, day)

    def one_day_rent(self, year: int, month: int) -> Decimal:
        """SPEC: the month's rent divided by the days in that month, half-up to 0.01 CNY."""
        days = calendar.monthrange(year, month)[1]
        return (self.monthly_fee / days).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Service(FastChoiceDisplay, models.Model):
    """One service under a contract, with the specialist and engineer assigned to it."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="services",
                                 verbose_name=_("contract"))
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="services",
                                 verbose_name=_("customer"), editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ServiceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    specialist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True,
                                   verbose_name=_("specialist"))
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+", null=True, blank=True,
                                 verbose_name=_("engineer"))
    # Where the service lives, as the data centre names it: an event at the level of a room, a
    # rack row or an uplink (a power cut, a carrier fault, a maintenance window) is recorded once
    # and reaches every service whose location matches (incidents.FacilityEvent).
    room = models.CharField(_("machine room"), max_length=80, blank=True, db_index=True)
    rack_row = models.CharField(_("rack row"), max_length=80, blank=True, db_index=True)
    uplink = models.CharField(_("uplink"), max_length=80, blank=True, db_index=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["customer__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The customer is always the contract's; kept on the row so tenant scoping is one join-free filter.
        self.customer_id = self.contract.customer_id
        super().save(*args, **kwargs)


CHANNEL_FIELDS = {
    ContactChannel.OFFICE_PHONE: "office_phone",
    ContactChannel.MOBILE: "mobile",
    ContactChannel.PAGER: "pager",
    ContactChannel.FAX: "fax",
    ContactChannel.EMAIL: "email",
}


class AuthorizedContact(FastChoiceDisplay, models.Model):
    """A designated authorized person (指定授权人). Only these may request work on the customer's
    equipment. The MRTG verification secret is stored with Django's password hashers."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="authorized_contacts", verbose_name=_("customer"))
    name = models.CharField(_("name"), max_length=120)
    office_phone = models.CharField(_("office phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    pager = models.CharField(_("pager"), max_length=40, blank=True)
    fax = models.CharField(_("fax"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Channels for emergency notices, in the customer's order of preference.
    channels = models.JSONField(_("notice channels in order of preference"), default=list)
    priority = models.PositiveSmallIntegerField(_("priority"), default=1)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices,
                                default=Language.ZH)
    mrtg_username = models.CharField(_("MRTG user name"), max_length=120, blank=True)
    mrtg_secret_hash = models.CharField(max_length=256, blank=True, editable=False)
    # Opt-in: the monthly SLA statement (月度服务品质报告) is e-mailed to contacts who ask for it.
    receives_statements = models.BooleanField(_("receives the monthly SLA statement"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("authorized contact")
        verbose_name_plural = _("authorized contacts")
        ordering = ["customer__name", "priority", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        channels = self.channels or []
        valid = set(ContactChannel.values)
        if not isinstance(channels, list) or not channels:
            errors["channels"] = _("Choose at least one channel for emergency notices.")
        elif any(c not in valid for c in channels):
            errors["channels"] = _("Unknown channel.")
        elif len(set(channels)) != len(channels):
            errors["channels"] = _("A channel is listed twice.")
        else:
            for c in channels:
                if not getattr(self, CHANNEL_FIELDS[ContactChannel(c)]):
                    errors[CHANNEL_FIELDS[ContactChannel(c)]] = _(
                        "This channel is chosen for notices but has no address.")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("Must not be before the start of validity.")
        if errors:
            raise ValidationError(errors)

    def address_for(self, channel: str) -> str:
        return str(getattr(self, CHANNEL_FIELDS[ContactChannel(channel)]))

    @property
    def has_mrtg_secret(self) -> bool:
        return bool(self.mrtg_secret_hash)

    def set_mrtg_secret(self, raw: str) -> None:
        self.mrtg_secret_hash = make_password(raw)

    def check_mrtg(self, username: str, secret: str) -> bool:
        """Both parts compared in constant time; the hash check always runs so timing says nothing."""
        name_ok = hmac.compare_digest(username.encode(), (self.mrtg_username or "").encode())
        secret_ok = check_password(secret, self.mrtg_secret_hash or make_password(None))
        return name_ok and secret_ok and bool(self.mrtg_secret_hash)

    def is_valid_on(self, day: date) -> bool:
        return (self.active and (self.valid_from is None or self.valid_from <= day)
                and (self.valid_until is None or day <= self.valid_until))


class CustomerUser(FastChoiceDisplay, models.Model):
    """Binds a login to exactly one customer. Such a user sees only that customer's data."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="customer_link")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="users")
    is_customer_admin = models.BooleanField(
        _("customer administrator"), default=False,
        help_text=_("May manage the organisation's authorized contacts."))

    class Meta:
        verbose_name = _("customer user")
        verbose_name_plural = _("customer users")

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer}"
