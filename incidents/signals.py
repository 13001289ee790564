"""What incidents tell other apps, after commit."""

from django.dispatch import Signal

# An outage was recorded, ended, re-classified or reported, or an incident's customer report
# time moved (the 5-day clause): the counted downtime of these services may have changed from
# `since` on. Sent after commit with service_ids: list[int], since: datetime, until: datetime | None
# (None: still open). Settlement re-judges any closed month it touches.
outages_changed = Signal()
