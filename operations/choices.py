from django.db import models
from django.utils.translation import gettext_lazy as _


class OperationState(models.TextChoices):
    REQUESTED = "requested", _("requested")
    AUTHORIZED = "authorized", _("authorized")
    IN_PROGRESS = "in_progress", _("in progress")
    FINISHED = "finished", _("finished")
    REPORTED = "reported", _("reported")
    CLOSED = "closed", _("closed")
    REFUSED = "refused", _("refused")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATES = (OperationState.REQUESTED, OperationState.AUTHORIZED, OperationState.IN_PROGRESS,
               OperationState.FINISHED)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


class AuthorizationMethod(models.TextChoices):
    WRITTEN = "written", _("Written authorization")  # 书面授权
    PHONE = "phone", _("Phone authorization")  # 电话授权


class AuthorizationStatus(models.TextChoices):
    # A written authorization the customer uploads waits for the engineer to check the signature;
    # one the engineer uploads, and every phone authorization, is accepted when it is recorded.
    PENDING = "pending", _("awaiting check")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")


class PhoneAttemptResult(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    UNAUTHORIZED = "unauthorized", _("unauthorized (非法授权)")
    LOCKED = "locked", _("refused: phone authorization locked")
