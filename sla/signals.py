"""Signals other apps listen to, sent after commit with clock ids (never inside the sweep's
transaction, so a slow listener cannot hold the claim open)."""

import django.dispatch

# sender=Clock, clock_ids=list[int]
clocks_breached = django.dispatch.Signal()
clocks_warned = django.dispatch.Signal()
# sender=Clock, clock=Clock, from_state=str, to_state=str
clock_transitioned = django.dispatch.Signal()
