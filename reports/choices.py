from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint handling report")
    OPERATION = "operation", _("Operation report")
    INCIDENT = "incident", _("Incident report")
    STATEMENT = "statement", _("Monthly SLA statement")
