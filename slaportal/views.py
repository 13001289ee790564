"""Project-level views: the health endpoint and the role-based home page redirect."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


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
        with app.connection_for_write() as conn:
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


def healthz(request: HttpRequest) -> JsonResponse:
    """Database and broker reachability; 200 when both answer, 503 otherwise."""
    db, broker = _database(), _broker()
    ok = bool(db["ok"] and broker["ok"])
    return JsonResponse({"status": "ok" if ok else "fail", "database": db, "broker": broker},
                        status=200 if ok else 503)


def home(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Placeholder replaced by the role-based home page."""
    from django.shortcuts import redirect

    return redirect("admin:index")
