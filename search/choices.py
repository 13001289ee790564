"""The kinds of things the search box finds, in the order their groups are shown."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaints")
    INCIDENT = "incident", _("Incidents")
    OPERATION = "operation", _("Operations")
    VISIT = "visit", _("Visits")
    CUSTOMER = "customer", _("Customers")
    CONTACT = "contact", _("Authorized contacts")


# Longest query accepted: a number, a phone, an e-mail address or a few words. Longer input is
# not a search someone types; it only makes every LIKE pattern (and its trigram set) bigger.
MAX_QUERY_LENGTH = 100
# Hits per kind: the box answers "where is it", it is not a list page (each group links to one).
DEFAULT_PER_KIND = 6
MAX_PER_KIND = 20
