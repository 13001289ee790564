"""Signals the monitoring engine sends to other apps, after commit, with plain data only."""

from __future__ import annotations

from django.dispatch import Signal

# One measured mail-loop message (E2): sent after the probe results are committed, once per loop
# message. Keyword arguments: service_id (int, the e-mail service), address (str, the probe
# mailbox), delivered_at (float, epoch seconds the message was in the mailbox), latency_ms (int,
# SMTP 250 after DATA → in the mailbox), token (str, unique per loop message), late (bool, found
# by a later loop).
mail_loop_measured = Signal()
