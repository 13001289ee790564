"""Choices of the machine-room visit workflow (机房开放, agreement article 9)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitState(models.TextChoices):
    REQUESTED = "requested", _("requested")
    APPROVED = "approved", _("approved")
    DECLINED = "declined", _("declined")
    CHECKED_IN = "checked_in", _("checked in")
    CHECKED_OUT = "checked_out", _("checked out")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")
    NO_SHOW = "no_show", _("no-show")


class Activity(models.TextChoices):
    """将进行的活动 (操作，参观等)."""

    OPERATION = "operation", _("Operation")
    TOUR = "tour", _("Tour")
    OTHER = "other", _("Other")


class IdDocumentType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("Resident identity card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Mainland travel permit for Hong Kong and Macao residents")
    TAIWAN_PERMIT = "taiwan_permit", _("Mainland travel permit for Taiwan residents")
    OTHER = "other", _("Other document")


# Before entry the customer may still cancel; these visits also appear in the staff schedule.
CANCELLABLE_STATES = (VisitState.REQUESTED, VisitState.APPROVED)
UPCOMING_STATES = (VisitState.REQUESTED, VisitState.APPROVED, VisitState.CHECKED_IN)
# At the door: security sees the full ID number only while a visit can still be checked in.
DOOR_STATES = (VisitState.APPROVED, VisitState.CHECKED_IN)
# An escort is busy with a visit in these states (for the overlap check).
ESCORT_BUSY_STATES = (VisitState.APPROVED, VisitState.CHECKED_IN)
