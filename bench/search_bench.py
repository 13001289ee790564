"""Benchmark: the header search over 100,000 complaints (issue 14) — median and p95 per query.

Run:  .venv/bin/python bench/search_bench.py [--complaints 100000] [--runs 60]

What it does:
  1. a scratch database (PostgreSQL `slaportal_bench_search`, or BENCH_DATABASE_URL), dropped,
     recreated and migrated (so search/migrations/0001's pg_trgm GIN indexes exist), with 200
     customers, one authorized contact each, and `--complaints` complaints bulk-created directly:
     numbers TS<date>-<id>, titles drawn from a pool of Chinese phrases, a complainant with a name,
     a mobile number and an e-mail address; then ANALYZE;
  2. times, for a manager (every customer) and for a customer user (one customer's 500 rows out of
     100,000: the tenant filter has to combine with the text match):
       - the complaint group alone (search.selectors.search_kind, what the goal is about),
       - every group (search_all: complaints, incidents, operations, visits, customers, contacts),
       - GET /api/search/ end to end through Django's test client (auth, parsing, JSON),
     for a fragment of a number (5 digits from a random existing number), a 4-character and a
     2-character Chinese word, and a mobile number typed with separators;
  3. prints EXPLAIN of the complaint query so the plan (bitmap scans of the trigram indexes)
     can be checked, and drops the scratch database (--keep leaves it).
Goal: median ≤ 50 ms for a number fragment and a Chinese word.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clock_sweep import answers, recreate_database  # noqa: E402

PHRASES = ["机房网络时断时续", "邮件收发延迟严重", "邮箱无法登录", "网站打不开", "带宽达不到合同约定",
           "服务器宕机两小时", "客服响应太慢", "发票开具错误", "垃圾邮件过多", "域名解析失败",
           "工程师未按时到场", "机柜电源跳闸", "备份恢复失败", "退信无法投递", "账单金额有误",
           "操作未经授权", "空调故障温度过高", "接收延迟超过半小时", "发送延迟", "系统可用率不达标"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def figures(samples: list[float]) -> str:
    s = sorted(samples)
    p95 = s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]
    return f"median={statistics.median(s) * 1000:6.1f} ms  p95={p95 * 1000:6.1f} ms  (n={len(s)})"


def time_it(fn: Callable[[str], Any], queries: list[str]) -> list[float]:
    fn(queries[0])  # warm: the first query pays for connection set-up and cold caches
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--complaints", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    opts = ap.parse_args()

    if not (os.environ.get("BENCH_DATABASE_URL") or answers("127.0.0.1", 5432)):
        print("PostgreSQL is not answering on 127.0.0.1:5432 and BENCH_DATABASE_URL is not set", file=sys.stderr)
        return 2
    db_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_bench_search")
    var_dir = Path(os.environ.get("BENCH_VAR_DIR", str(ROOT / "var" / "bench_search")))
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "SLAPORTAL_VAR_DIR": str(var_dir), "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 40,
           "LOG_LEVEL": "WARNING", "DEBUG": "0"}
    os.environ.update(env)
    print(f"database={db_url} complaints={opts.complaints:,} runs={opts.runs} cpus={os.cpu_count()}", flush=True)
    recreate_database(db_url)
    t = time.monotonic()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"migrated in {time.monotonic() - t:.1f}s", flush=True)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from complaints.models import Complaint
    from customers.models import AuthorizedContact, Contract, Customer, CustomerUser, Service
    from search.selectors import search_all, search_kind

    setup_test_environment()
    User = get_user_model()
    rnd = random.Random(14)
    now = timezone.now()
    manager = User.objects.create(username="bench-mgr")
    manager.groups.add(Group.objects.get(name="manager"))
    specialist = User.objects.create(username="bench-spec")
    specialist.groups.add(Group.objects.get(name="specialist"))
    customers = Customer.objects.bulk_create(
        [Customer(name=f"压测客户 {i} Bench Co.", code=f"bench-{i}") for i in range(200)])
    contracts = Contract.objects.bulk_create([Contract(
        customer=c, number=f"BENCH-{i:03d}", signed_at=now, starts_on=now.date(), monthly_fee=3100)
        for i, c in enumerate(customers)])
    Service.objects.bulk_create([Service(contract=k, customer=k.customer, kind="colocation", name=f"托管 {i}",
                                         specialist=specialist) for i, k in enumerate(contracts)])
    AuthorizedContact.objects.bulk_create([AuthorizedContact(
        customer=c, name=f"{SURNAMES[i % 20]}经理", mobile=f"139-{i:04d}-{i * 7 % 10000:04d}",
        email=f"ops{i}@bench.test") for i, c in enumerate(customers)])
    alice = User.objects.create(username="bench-customer")
    CustomerUser.objects.create(user=alice, customer=customers[7])

    t = time.monotonic()
    base = now - timedelta(days=365)
    batch, made = 10_000, 0
    phones: list[str] = []
    while made < opts.complaints:
        rows = []
        for i in range(made, min(made + batch, opts.complaints)):
            received = base + timedelta(seconds=i * 300)
            phone = f"1{rnd.randint(3, 8)}{rnd.randint(0, 9)}{rnd.randint(0, 99999999):08d}"
            if i % 97 == 0:
                phones.append(phone)
            rows.append(Complaint(
                number=f"TS{received:%Y%m%d}-{i + 1:06d}", customer=customers[i % 200],
                complainant_name=rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
                complainant_phone=f"{phone[:3]}-{phone[3:7]}-{phone[7:]}", complainant_email=f"user{i}@c{i % 200}.test",
                channel="complaint_line", subject="network",
                title=f"{rnd.choice(PHRASES)}，{rnd.choice(PHRASES)}", description="压测数据。",
                specialist=specialist, state="received", received_at=received))
        Complaint.objects.bulk_create(rows, batch_size=batch)
        made += len(rows)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"{made:,} complaints created and analysed in {time.monotonic() - t:.1f}s", flush=True)

    numbers = list(Complaint.objects.values_list("number", flat=True).order_by("?")[:opts.runs])
    cases = {
        "number fragment (5 digits)": [n[-5:] for n in numbers],
        "number fragment (TS + date + 3)": [n[:-3] for n in numbers],
        "Chinese word, 4 characters (时断时续)": ["时断时续"] * opts.runs,
        "Chinese word, 2 characters (发票)": ["发票"] * opts.runs,
        "Chinese name (3 characters)": [rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
                                        for _ in range(opts.runs)],
        "phone typed without separators": [rnd.choice(phones) for _ in range(opts.runs)],
    }
    api_manager, api_alice = Client(), Client()
    api_manager.force_login(manager)
    api_alice.force_login(alice)

    def api_get(client: Client) -> Callable[[str], Any]:
        def get(q: str) -> Any:
            r = client.get("/api/search/", {"q": q}, secure=True)  # HTTPS-only outside DEBUG
            assert r.status_code == 200, r.content
            return r
        return get

    for who, user, client in (("manager (all customers)", manager, api_manager),
                              ("customer user (one customer)", alice, api_alice)):
        print(f"\n== {who}", flush=True)
        for label, queries in cases.items():
            found = len(search_kind(user=user, kind="complaint", q=queries[0]).hits)
            print(f"{label}  [{found} shown for {queries[0]!r}]", flush=True)
            def complaints_only(q: str, u: Any = user) -> Any:
                return search_kind(user=u, kind="complaint", q=q)

            def every_kind(q: str, u: Any = user) -> Any:
                return search_all(user=u, q=q)

            print(f"   complaints only  : {figures(time_it(complaints_only, queries))}")
            print(f"   all six kinds    : {figures(time_it(every_kind, queries))}")
            print(f"   GET /api/search/ : {figures(time_it(api_get(client), queries))}", flush=True)

    from search.selectors import CANDIDATES, KINDS, _condition

    # The first step of search_kind (matching ids, no order), which is where the index matters.
    for who, user, q in (("manager, a number fragment", manager, numbers[0][-5:]),
                         ("customer user, 时断时续", alice, "时断时续")):
        print(f"\n== plan of the complaint candidates query ({who})")
        qs = KINDS["complaint"].queryset(user).filter(_condition(KINDS["complaint"], q))
        print(qs.order_by().values_list("pk", flat=True)[:CANDIDATES].explain(analyze=True))

    django.db.connections.close_all()
    if not opts.keep:
        import psycopg

        base_url, name = db_url.rsplit("/", 1)
        with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"\ndropped {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
