from django.db import models
from django.utils.translation import gettext_lazy as _


class CreditKind(models.TextChoices):
    WAIVE_MONTH_RENT = "waive_month_rent", _("Waive the month's rent")
    REFUND_INSTALLATION = "refund_installation", _("Refund the installation fee")
    DEDUCT_DAY_RENT = "deduct_day_rent", _("Deduct one day's rent")
    EXTEND_SERVICE = "extend_service", _("Extend service time")


class CreditState(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    APPROVED = "approved", _("approved")
    APPLIED = "applied", _("applied")
    REJECTED = "rejected", _("rejected")
