from django.db import models
from django.utils.translation import gettext_lazy as _


class PolicyKind(models.TextChoices):
    DEADLINE = "deadline", _("Deadline (a clock runs)")
    MEASURE = "measure", _("Measured over a period")


class Comparison(models.TextChoices):
    LT = "lt", "<"
    LE = "le", "≤"
    GE = "ge", "≥"
    GT = "gt", ">"


class Unit(models.TextChoices):
    # Seconds: the webmail page open time (E3-WEB, seed 002 §3 "平均值≤10秒").
    SECONDS = "seconds", _("seconds")
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")
    WORKING_DAYS = "working_days", _("working days")
    PERCENT = "percent", _("percent")
    COUNT = "count", _("count")


class CalendarCode(models.TextChoices):
    H24 = "24x7", _("24×7 (elapsed time)")
    CN_WORKDAYS = "cn-workdays", _("Mainland-China working days")
    MONTH = "month", _("Calendar month")
    YEAR = "year", _("Calendar year")
    DAY = "day", _("Day")


class Remedy(models.TextChoices):
    WAIVE_MONTH_RENT = "waive_month_rent", _("Waive that month's rent")
    REFUND_INSTALLATION = "refund_installation", _("Refund the installation fee")
    DEDUCT_DAY_RENT = "deduct_day_rent", _("Deduct one day's rent")
    EXTEND_SERVICE = "extend_service", _("Double service time for that month")
    ESCALATE = "escalate", _("Escalate to the manager")
    FLAG_AND_ESCALATE = "flag_escalate", _("Flag on the customer and escalate")


class ClockState(models.TextChoices):
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")
    MET = "met", _("met")
    BREACHED = "breached", _("breached")
    CANCELLED = "cancelled", _("cancelled")


OPEN_CLOCK_STATES = (ClockState.RUNNING, ClockState.PAUSED)
