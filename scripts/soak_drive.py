#!/usr/bin/env python3
"""Drive a running portal (started by `make run`) for a while, as its users would, against its
own database: complaints logged, accepted and answered with PDF reports (which are e-mailed to
the complainants), short clocks that fall due during the run, and people reading pages over
HTTP. Then wait for the backlog to drain and check what must hold.

    SLAPORTAL_VAR_DIR=<the run's var dir> .venv/bin/python scripts/soak_drive.py URL SECONDS

Prints one JSON object: what was done and the checks. Exit 0 when every check holds:
every clock that fell due is breached exactly once, every notification row ended sent or failed,
no page answered 5xx. (The caller checks that no child of `make run` exited.)
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")


def main() -> int:
    url, seconds = sys.argv[1].rstrip("/"), float(sys.argv[2])
    secret = Path(os.environ["SLAPORTAL_VAR_DIR"], "secret_key")
    os.environ.setdefault("SECRET_KEY", secret.read_text().strip())
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count
    from django.utils import timezone

    from audit.models import AuditEntry
    from complaints.services import complaint_accept, complaint_create, complaint_report_issue
    from customers.models import Contract, Customer
    from notifications.models import Notification
    from sla.models import Clock, ContractPolicy, SlaPolicy
    from sla.services import clock_start

    User = get_user_model()
    specialist = User.objects.get(username="specialist")
    customer = Customer.objects.get(code="demo-huaxia")
    contract = Contract.objects.filter(customer=customer).first()
    assert contract is not None
    # C6 (written operation report) for this contract due 6 s after it starts: short clocks.
    c6 = SlaPolicy.objects.get(code="C6")
    ContractPolicy.objects.update_or_create(contract=contract, policy=c6,
                                            defaults={"threshold": Decimal("0.0017"), "active": True})

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page_codes: dict[int, int] = {}

    def get(path: str) -> int:
        try:
            with opener.open(url + path, timeout=20) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        except Exception:  # noqa: BLE001 - refused or timed out: the run is not answering
            code = 599
        page_codes[code] = page_codes.get(code, 0) + 1
        return code

    # Log in through the form like a person (CSRF cookie, then POST).
    get("/accounts/login/")
    token = next((c.value for c in jar if c.name == "csrftoken"), "")
    body = urllib.parse.urlencode({"username": "manager", "password": "slaportal-demo",
                                   "csrfmiddlewaretoken": token}).encode()
    req = urllib.request.Request(url + "/accounts/login/", data=body, headers={"Referer": url + "/accounts/login/"})
    with opener.open(req, timeout=20):
        pass

    clocks: list[int] = []
    complaints = reports = 0
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        c = complaint_create(customer=customer, actor=specialist, channel="complaint_line", subject="network",
                             title=f"【压测】网络抖动 {i}", description="客户来电反映丢包。",
                             complainant_name="张伟", complainant_email="zhangwei@huaxia.example")
        complaint_accept(complaint_id=c.pk, actor=specialist)
        complaints += 1
        if i % 3 == 0:
            complaint_report_issue(complaint_id=c.pk, actor=specialist, findings="已查明：上游线路抖动。",
                                   actions_taken="已切换线路。")
            reports += 1
        clock = clock_start(subject=c, policy_code="C6", contract=contract, assignee=specialist,
                            label=f"soak {i}")
        clocks.append(clock.pk)
        for path in ("/", "/sla/overdue/", "/complaints/", "/healthz"):
            get(path)
        time.sleep(1.0)

    # Let the last clocks fall due, then the backlog drain.
    time.sleep(8)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and Notification.objects.filter(status__in=["pending", "sending"]).exists():
        time.sleep(1)

    now = timezone.now()
    due = Clock.objects.filter(due_at__lte=now - timedelta(seconds=2))
    not_breached = due.filter(state="running").count()
    ct = ContentType.objects.get_for_model(Clock)
    twice = (AuditEntry.objects.filter(content_type=ct, action="breach").values("object_id")
             .annotate(n=Count("id")).filter(n__gt=1).count())
    soak_breached = Clock.objects.filter(pk__in=clocks, state="breached").count()
    by_status = dict(Notification.objects.values_list("status").annotate(n=Count("id")))
    unfinished = by_status.get("pending", 0) + by_status.get("sending", 0)
    checks = {
        "every clock that fell due is breached": not_breached == 0,
        "no clock breached twice": twice == 0,
        "every soak clock breached": soak_breached == len(clocks),
        "every notification ended sent or failed": unfinished == 0,
        "no page answered 5xx": not any(code >= 500 for code in page_codes),
    }
    print(json.dumps({"complaints": complaints, "reports": reports, "short_clocks": len(clocks),
                      "soak_clocks_breached": soak_breached, "notifications": by_status,
                      "pages": page_codes, "checks": checks}, ensure_ascii=False))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    import urllib.parse  # noqa: F401

    sys.exit(main())
