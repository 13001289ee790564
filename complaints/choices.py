from django.db import models
from django.utils.translation import gettext_lazy as _


class ComplaintState(models.TextChoices):
    RECEIVED = "received", _("received")
    ACCEPTED = "accepted", _("accepted")
    INVESTIGATING = "investigating", _("investigating")
    REPORT_ISSUED = "report_issued", _("first report issued")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    WITHDRAWN = "withdrawn", _("withdrawn")


class ComplaintChannel(models.TextChoices):
    COMPLAINT_LINE = "complaint_line", _("Complaint line")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Portal")
    LETTER = "letter", _("Letter")


class ComplaintSubject(models.TextChoices):
    NETWORK = "network", _("Network quality")
    CUSTOMER_SERVICE = "customer_service", _("Customer-service quality")
    TECH_SUPPORT = "tech_support", _("Technical-support quality")
    SPAM = "spam", _("Spam")
    VIRUS = "virus", _("Virus")


# Spam and virus complaints belong to the e-mail agreement: only e-mail customers may file them.
EMAIL_ONLY_SUBJECTS = {ComplaintSubject.SPAM, ComplaintSubject.VIRUS}


class ComplaintTarget(models.TextChoices):
    PROVIDER = "provider", _("The provider")
    EMPLOYEE = "employee", _("A named employee")


OPEN_STATES = (ComplaintState.RECEIVED, ComplaintState.ACCEPTED, ComplaintState.INVESTIGATING,
               ComplaintState.REPORT_ISSUED)
