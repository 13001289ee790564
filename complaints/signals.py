"""Signals other apps listen to, sent after commit with ids (never model instances)."""

import django.dispatch

# A complaint was accepted (受理). A spam complaint runs no C8 clock of its own: the anti-spam
# app opens a spam case with the E4 clocks from this.
# sender=Complaint, complaint_id=int, subject=str, accepted_at=datetime, actor_id=int | None
complaint_accepted = django.dispatch.Signal()
# The complainant withdrew the complaint. sender=Complaint, complaint_id=int, subject=str,
# withdrawn_at=datetime, actor_id=int | None, reason=str
complaint_withdrawn = django.dispatch.Signal()
