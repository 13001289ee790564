"""Project-level views: the health endpoint and the role-based home page."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from sla.selectors import WorkQueue


def _database() -> dict[str, object]:
    t0 = time.monotonic()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        return {"ok": True, "engine": connection.vendor, "ms": round((time.monotonic() - t0) * 1000, 1)}
    except Exception as e:  # reported, not raised: this page exists to say what is broken
        return {"ok": False, "engine": connection.vendor, "error": str(e)[:200]}


def _broker() -> dict[str, object]:
    from slaportal.celery import app

    url = settings.CELERY_BROKER_URL
    kind = url.split(":", 1)[0]
    t0 = time.monotonic()
    try:
        # The URL from settings, not the one the app was configured with at import: the same
        # thing in a deployment, and what a test's settings override changes.
        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            if kind == "filesystem":
                # The filesystem transport "connects" to anything; check its folder is writable.
                from pathlib import Path

                folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
                folder.mkdir(parents=True, exist_ok=True)
                probe = folder / ".healthz"
                probe.write_text("ok")
                probe.unlink()
        return {"ok": True, "transport": kind, "ms": round((time.monotonic() - t0) * 1000, 1)}
    except Exception as e:
        return {"ok": False, "transport": kind, "error": str(e)[:200]}


def _loops() -> dict[str, dict[str, object]]:
    from runtime.selectors import heartbeat_lags

    out: dict[str, dict[str, object]] = {}
    for name, (hb, lag) in heartbeat_lags().items():
        out[name] = {"lag_seconds": round(lag, 3), "last_duration_ms": hb.last_duration_ms,
                     "iterations": hb.iterations, "pid": hb.pid, "host": hb.host}
    return out


def _notifications() -> dict[str, object]:
    from django.db.models import Count, Min

    from notifications.choices import Status
    from notifications.models import Notification

    agg = Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING]).aggregate(
        n=Count("id"), oldest=Min("created_at"))
    oldest = agg["oldest"]
    from django.utils import timezone

    return {"waiting": agg["n"],
            "oldest_pending_seconds": round((timezone.now() - oldest).total_seconds(), 3) if oldest else None}


def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker, the loops' heartbeats and the notification backlog. 503 when the database
    does not answer or the sweep has not completed an iteration for HEALTH_SWEEP_MAX_LAG_SECONDS
    (then deadlines are not being watched). A broker that is down is reported ("degraded") but is
    not a 503: breaches and notifications do not depend on it."""
    db, broker = _database(), _broker()
    body: dict[str, object] = {"database": db, "broker": broker}
    ok = bool(db["ok"])
    sweep_ok = False
    if ok:
        try:
            loops = _loops()
            body["loops"] = loops
            body["notifications"] = _notifications()
            lag = loops.get("sweep", {}).get("lag_seconds")
            sweep_ok = isinstance(lag, float) and lag <= settings.HEALTH_SWEEP_MAX_LAG_SECONDS
            body["sweep"] = {"ok": sweep_ok, "lag_seconds": lag,
                             "max_lag_seconds": settings.HEALTH_SWEEP_MAX_LAG_SECONDS}
        except Exception as e:  # tables missing (not migrated yet): unhealthy, said plainly
            body["sweep"] = {"ok": False, "error": str(e)[:200]}
    healthy = ok and sweep_ok
    status = "fail" if not healthy else ("ok" if broker["ok"] else "degraded")
    body = {"status": status, **body}
    return JsonResponse(body, status=200 if healthy else 503)


def _queue_sections(queue: WorkQueue, *, user_id: int) -> list[dict[str, object]]:
    """The three groups of a work queue as the home page shows them, with a link to the full
    filtered list when a group has more rows than the page shows."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from sla.selectors import QueueGroup

    overdue = reverse("sla:overdue")
    meta = {
        QueueGroup.BREACHED: (_("Breached, not yet fulfilled"), "bad", f"{overdue}?bucket=overdue&assignee={user_id}"),
        QueueGroup.AT_RISK: (_("At risk"), "warn", f"{overdue}?bucket=warning&assignee={user_id}"),
        QueueGroup.RUNNING: (_("Running on time"), "ok", reverse("sla:clock_list")),
    }
    out: list[dict[str, object]] = []
    for key, (label, tone, more_url) in meta.items():
        rows = queue.groups[key]
        out.append({"key": str(key), "label": label, "tone": tone, "rows": rows, "count": queue.counts[key],
                    "more_url": more_url if queue.counts[key] > len(rows) else ""})
    return out


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One home page per role: managers see what is overdue and what awaits their decision,
    specialists and engineers their work queue (breached, at risk, running: oldest deadline first,
    linking to each item) and customers, data-centre staff today's visits, a customer user their
    organisation with its open and breached clocks."""
    from credits.choices import CreditState
    from credits.selectors import credit_list
    from customers.choices import Role
    from customers.selectors import customer_list, user_customer_id, user_has_role
    from sla.selectors import (
        Bucket,
        QueueGroup,
        breach_history,
        customer_work_queue,
        my_work_queue,
        overdue_review,
    )

    user = request.user
    if user_has_role(user, Role.MANAGER):
        counts = dict(overdue_review(user=user).order_by().values_list("bucket").annotate(n=Count("id")))
        pending = credit_list(user=user).filter(state=CreditState.PROPOSED)
        queue = my_work_queue(user=user)
        return render(request, "home/manager.html", {
            "overdue_count": counts.get(Bucket.OVERDUE, 0),
            "warning_count": counts.get(Bucket.WARNING, 0),
            "pending_credits": pending[:10],
            "pending_credit_count": pending.count(),
            "recent_breaches": breach_history(user=user)[:10],
            "queue": queue, "queue_sections": _queue_sections(queue, user_id=user.pk),
        })
    if user_has_role(user, Role.SPECIALIST, Role.ENGINEER):
        queue = my_work_queue(user=user)
        customers = customer_list(user=user).filter(
            Q(services__specialist=user) | Q(services__engineer=user)).distinct()
        return render(request, "home/staff.html", {
            "queue": queue, "queue_sections": _queue_sections(queue, user_id=user.pk),
            "my_customers": customers,
        })
    if user_has_role(user, Role.DC_STAFF):
        from access_requests.selectors import dc_staff_dashboard

        queue = my_work_queue(user=user)
        return render(request, "home/dc_staff.html", {
            "dash": dc_staff_dashboard(user=user),
            "queue": queue, "queue_sections": _queue_sections(queue, user_id=user.pk),
        })
    if user_customer_id(user) is not None:
        from customers.views import customer_sections

        ctx = customer_sections(user, customer_list(user=user).get())
        # Breached clocks whose obligation is still owed stay on the customer's home too.
        cq = customer_work_queue(user=user)
        ctx["open_clocks"] = [r.clock for g in QueueGroup.values for r in cq.groups[g]]
        ctx["credits"] = credit_list(user=user)[:20]
        return render(request, "home/customer.html", ctx)
    return render(request, "home/no_role.html", {})
