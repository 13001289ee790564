"""Signals other apps listen to, sent after commit with clock ids (never inside the sweep's
transaction, so a slow listener cannot hold the claim open)."""

import django.dispatch

# sender=Clock, clock_ids=list[int]
clocks_breached = django.dispatch.Signal()
clocks_warned = django.dispatch.Signal()
# sender=Clock, clock=Clock, from_state=str, to_state=str
clock_transitioned = django.dispatch.Signal()
# A breached clock is no longer a breach: the promise was kept before due_at and we learnt of it
# late ("met, recorded late"), or the breach was exempted (force majeure). Whatever the breach
# caused (a missed-notice record, a proposed credit) must be withdrawn with `reason`.
# sender=Clock, clock_id=int, reason=str, to_state=str ("met" or "cancelled")
clock_breach_withdrawn = django.dispatch.Signal()
