from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    INQUIRY = "inquiry", _("Business inquiry")
    TECHNICAL = "technical", _("Technical question")
    SERVICE_CHANGE = "service_change", _("Service change")
    PAYMENT_RENEWAL = "payment_renewal", _("Payment and renewal")
    INSTALLATION = "installation", _("Installation progress")


class RequestChannel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SYSTEM = "system", _("Opened by the system")


class RequestState(models.TextChoices):
    NEW = "new", _("new")
    IN_PROGRESS = "in_progress", _("in progress")
    WAITING = "waiting", _("waiting for the customer")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


OPEN_STATES = (RequestState.NEW, RequestState.IN_PROGRESS, RequestState.WAITING)


class EntryKind(models.TextChoices):
    REPLY = "reply", _("Reply")
    NOTE = "note", _("Internal note")


class InboundOutcome(models.TextChoices):
    OPENED = "opened", _("opened a new request")
    APPENDED = "appended", _("appended to a request")
    UNMATCHED = "unmatched", _("unmatched: unknown sender")
    FORGED = "forged", _("unmatched: the subject's token is not valid")
    DISMISSED = "dismissed", _("dismissed by staff")


class ChangeState(models.TextChoices):
    AGREED = "agreed", _("agreed")
    APPLIED = "applied", _("applied")


# Fields of customers.Service a service change may set (Service has no bandwidth field: a
# bandwidth change is recorded in the request and, where equipment work is needed, an operation).
CHANGEABLE_SERVICE_FIELDS = ("name", "room", "rack_row", "uplink", "active")

# Days before a contract's end on which the specialist and the contacts are reminded.
RENEWAL_THRESHOLDS = (60, 30)
