from django.db import models
from django.utils.translation import gettext_lazy as _


class Verdict(models.TextChoices):
    MET = "met", _("met")
    BREACHED = "breached", _("breached")
    # The promise is switched off for the contract (a per-contract override) that month.
    NOT_APPLICABLE = "not_applicable", _("not applicable")


class CloseTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("scheduled month close")
    MANAGER = "manager", _("closed by a manager")
    REJUDGE = "rejudge", _("re-judged after a late change")
    REQUEST = "request", _("statement requested")
