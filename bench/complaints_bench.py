"""Benchmark: complaint report PDFs and the complaint list API at 100,000 complaints.

Run:  .venv/bin/python bench/complaints_bench.py [--complaints 100000] [--runs 20]

What it does:
  1. uses a dedicated database (PostgreSQL `slaportal_bench_cmp` when 127.0.0.1:5432 answers, or
     BENCH_DATABASE_URL; SQLite under var/bench_cmp otherwise), dropped, recreated and migrated;
  2. PDF: renders the first written report 投诉处理情况报告 of one real complaint with WeasyPrint
     (reports.rendering.render_pdf, the static-only URL fetcher, the CJK font), once to warm up
     and then `runs` times in this process, and prints the median, p90 and min; then issues
     `runs` first reports end to end (complaint_report_issue: lock, render, hash, store the file,
     meet C8, audit) and prints the same figures;
  3. list API: bulk-creates N complaints over 200 customers (40 % received, 30 % accepted with a
     running C8 clock of which a third are past due, 30 % with the first report issued and C8
     met), runs ANALYZE, then times GET /api/complaints/ with Django's test Client (first page,
     page 100, and filtered pages; staff and a customer user) — median of `runs` after one
     warm-up — and prints the SQL query count of each request.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def recreate_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def figures(samples: list[float]) -> str:
    s = sorted(samples)
    p90 = s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]
    return (f"median={statistics.median(s) * 1000:.1f} ms p90={p90 * 1000:.1f} ms "
            f"min={s[0] * 1000:.1f} ms (n={len(s)})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--complaints", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=20)
    opts = ap.parse_args()

    var_dir = ROOT / "var" / "bench_cmp"
    (var_dir / "staticfiles").mkdir(parents=True, exist_ok=True)
    db_url = os.environ.get("BENCH_DATABASE_URL") or (
        "postgres://postgres@127.0.0.1:5432/slaportal_bench_cmp" if answers("127.0.0.1", 5432)
        else f"sqlite:///{var_dir / 'bench.sqlite3'}")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "SLAPORTAL_VAR_DIR": str(var_dir), "CELERY_BROKER_URL": "filesystem://",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    print(f"database={db_url} complaints={opts.complaints} runs={opts.runs}", flush=True)

    t = time.monotonic()
    recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"database migrated in {time.monotonic() - t:.1f}s", flush=True)

    import django

    django.setup()
    import logging

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from complaints.models import Complaint
    from complaints.services import (
        _report_context,
        complaint_accept,
        complaint_create,
        complaint_report_issue,
    )
    from customers.models import Contract, Customer, CustomerUser, Service
    from reports.models import WrittenReport
    from reports.rendering import render_pdf
    from sla.models import Clock, SlaPolicy

    setup_test_environment()  # the test Client's host is allowed; mail stays in memory
    User = get_user_model()

    def staff(role: str, name: str) -> Any:
        u = User.objects.create(username=name, email=f"{name}@bench.test")
        u.groups.add(Group.objects.get(name=role))
        return u

    specialists = [staff("specialist", f"bench-spec{i}") for i in range(10)]
    manager = staff("manager", "bench-mgr")
    now = timezone.now()
    signed = now - timedelta(days=60)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"压测客户 {i} Bench Co.", code=f"bench-{i}") for i in range(200)])
    contracts = Contract.objects.bulk_create([Contract(
        customer=c, number=f"BENCH-{i:03d}", signed_at=signed, starts_on=signed.date(),
        monthly_fee=3100, installation_fee=500) for i, c in enumerate(customers)])
    Service.objects.bulk_create([Service(
        contract=k, customer=k.customer, kind="colocation", name=f"托管 {i}",
        specialist=specialists[i % 10]) for i, k in enumerate(contracts)])

    # --- 1. PDF rendering --------------------------------------------------------------------
    print("\n== first-report PDF", flush=True)
    c = complaint_create(customer=customers[0], actor=specialists[0], channel="complaint_line",
                         subject="network", title="机房网络时断时续，影响业务",
                         description="3月1日晚 20:00 至 23:00 网络多次中断，每次约 5 分钟。" * 5,
                         complainant_name="王经理")
    complaint_accept(complaint_id=c.pk, actor=specialists[0])
    c = Complaint.objects.select_related("customer", "specialist").get(pk=c.pk)
    content = {"findings": "核心交换机端口故障导致链路抖动。" * 8, "actions_taken": "已更换端口并调整路由。" * 4,
               "next_steps": "观察一周，每日巡检。", "expected_resolution": "3 天内"}
    report = WrittenReport(number=f"{c.number}-R1", sequence=1, version=1, issued_at=now)
    ctx = {**_report_context(c, bilingual=False), "report": report, "content": content}
    t = time.perf_counter()
    pdf = render_pdf(template="reports/complaint_report.html", context=ctx, language="zh-hans")
    print(f"warm-up render: {(time.perf_counter() - t) * 1000:.0f} ms, {len(pdf)} bytes", flush=True)
    samples = []
    for _ in range(opts.runs):
        t = time.perf_counter()
        render_pdf(template="reports/complaint_report.html", context=ctx, language="zh-hans")
        samples.append(time.perf_counter() - t)
    print(f"render one first-report PDF (zh-hans): {figures(samples)}", flush=True)

    # End to end: lock, render, hash, store, meet C8, audit (no e-mail: the complainants have no
    # address here, sending is not what is measured).
    ids = []
    for i in range(opts.runs):
        x = complaint_create(customer=customers[1 + i], actor=specialists[0], channel="email",
                             subject="tech_support", title=f"响应慢 {i}", description="两天没有答复。",
                             complainant_name=f"投诉人 {i}")
        complaint_accept(complaint_id=x.pk, actor=specialists[0])
        ids.append(x.pk)
    samples = []
    for cid in ids:
        t = time.perf_counter()
        complaint_report_issue(complaint_id=cid, actor=specialists[0], **content)
        samples.append(time.perf_counter() - t)
    print(f"issue one first report end to end (complaint_report_issue): {figures(samples)}", flush=True)

    # --- 2. complaint list API at N complaints ---------------------------------------------
    print(f"\n== complaint list API at {opts.complaints:,} complaints", flush=True)
    t = time.monotonic()
    policy = SlaPolicy.objects.get(code="C8")
    ct = ContentType.objects.get_for_model(Complaint)
    base = now - timedelta(days=365)
    batch = 5000
    made = Complaint.objects.count()
    subjects = ["network", "customer_service", "tech_support"]
    channels = ["complaint_line", "email", "portal", "letter"]
    while made < opts.complaints:
        n = min(batch, opts.complaints - made)
        rows = []
        for j in range(n):
            i = made + j
            received = base + timedelta(seconds=i * 300)
            kind = i % 10  # 0-3 received, 4-6 accepted, 7-9 first report issued
            state = "received" if kind < 4 else ("accepted" if kind < 7 else "report_issued")
            accepted = received + timedelta(hours=1) if kind >= 4 else None
            rows.append(Complaint(
                number=f"BN{i:08d}", customer=customers[i % 200], complainant_name=f"投诉人 {i}",
                channel=channels[i % 4], subject=subjects[i % 3], title=f"压测投诉 {i}",
                description="网络质量问题。", specialist=specialists[i % 10], state=state,
                received_at=received, accepted_at=accepted,
                first_report_at=accepted + timedelta(hours=5) if kind >= 7 else None))
        created = Complaint.objects.bulk_create(rows, batch_size=batch)
        clocks = []
        for obj in created:
            if obj.accepted_at is None:
                continue
            issued = obj.state == "report_issued"
            late = not issued and obj.pk % 3 == 0
            # Open clocks started recently (a third already past their 24 h); met ones long ago.
            started = obj.accepted_at if issued else now - timedelta(hours=30 if late else 2)
            clocks.append(Clock(
                content_type=ct, object_id=obj.pk, label=f"{obj.number} {obj.title}", policy=policy,
                customer_id=obj.customer_id, assignee_id=obj.specialist_id, target=24, unit="hours",
                calendar="24x7", started_at=started, due_at=started + timedelta(hours=24),
                warn_at=started + timedelta(hours=16), state="met" if issued else "running",
                met_at=obj.first_report_at if issued else None))
        Clock.objects.bulk_create(clocks, batch_size=batch)
        try:  # clocks made here bypass the engine: derive what the complaint keeps of them
            from sla.mirrors import mirror_refresh
        except ImportError:  # a checkout from before sla.mirrors
            pass
        else:
            mirror_refresh(Complaint, pks=[o.pk for o in created])
        made += n
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    total = Complaint.objects.count()
    print(f"{total:,} complaints, {Clock.objects.filter(policy=policy).count():,} C8 clocks created "
          f"in {time.monotonic() - t:.1f}s", flush=True)

    cust_user = User.objects.create(username="bench-customer", email="cu@bench.test")
    CustomerUser.objects.create(user=cust_user, customer=customers[7])
    clients = {"staff": Client(), "customer": Client()}
    clients["staff"].force_login(manager)
    clients["customer"].force_login(cust_user)
    cases = [
        ("staff", "/api/complaints/", "first page"),
        ("staff", "/api/complaints/?page=100", "page 100"),
        ("staff", "/api/complaints/?state=accepted", "state=accepted"),
        ("staff", f"/api/complaints/?customer={customers[42].pk}", "customer=one of 200"),
        ("staff", "/api/complaints/?subject=network&state=report_issued", "subject+state"),
        ("staff", "/api/complaints/?overdue=true", "overdue=true"),
        ("staff", "/api/complaints/?overdue=false", "overdue=false"),
        ("customer", "/api/complaints/", "customer user, own organisation"),
        ("staff", "/complaints/", "HTML list page, first page"),
        ("staff", "/complaints/?overdue=true", "HTML list page, overdue=true"),
        ("staff", f"/api/complaints/{c.pk}/", "API detail (2 reports/clock)"),
        ("staff", f"/complaints/{c.pk}/", "HTML detail page"),
        ("customer", f"/complaints/{Complaint.objects.filter(customer=customers[7]).latest('pk').pk}/",
         "HTML detail page, customer user"),
    ]
    ok = True
    for who, path, label in cases:
        client = clients[who]
        warm = client.get(path)
        if warm.status_code != 200:
            print(f"{label}: HTTP {warm.status_code}")
            ok = False
            continue
        samples = []
        for _ in range(opts.runs):
            t = time.perf_counter()
            r = client.get(path)
            samples.append(time.perf_counter() - t)
            assert r.status_code == 200
        with CaptureQueriesContext(connection) as cq:
            r = client.get(path)
        if "page" in (r.context or {}):
            count = r.context["page"].paginator.count
        else:
            body = r.json() if path.startswith("/api/") else {}
            count = body.get("count", 1)
        print(f"{who:8} {label:34} rows={count:>7,} queries={len(cq.captured_queries)}  {figures(samples)}",
              flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
