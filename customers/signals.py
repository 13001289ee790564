"""Signals customers sends for higher apps to react to, always after commit (STYLE.md: a higher
app listens; customers never imports it)."""

import django.dispatch

# A new service row was saved (from a page, the API or the admin).
# sender=Service, service_id=int, created_at=datetime, actor_id=int | None
# orders opens the service's installation order (C3) when it hears this.
service_created = django.dispatch.Signal()
