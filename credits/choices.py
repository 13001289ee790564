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
    # What caused it went away before billing (a month re-judged as met, a notice found to have
    # been given in time): never deleted, withdrawn with the reason.
    WITHDRAWN = "withdrawn", _("withdrawn")


# Proposed and approved credits are still owed; applied ones are on the bill.
LIVE_CREDIT_STATES = (CreditState.PROPOSED, CreditState.APPROVED, CreditState.APPLIED)
