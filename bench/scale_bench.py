"""Benchmark: the portal at scale, through a real HTTP server (issues 14 and 15).

Run:  .venv/bin/python bench/scale_bench.py [--complaints 100000] [--quick] [--keep] [--reuse]
      .venv/bin/python bench/scale_bench.py --complaints 1000000      (goals relaxed 2x)

What it does:
  1. a dedicated PostgreSQL database (`slaportal_bench_scale`, or BENCH_DATABASE_URL), dropped,
     recreated and migrated (`--reuse` keeps one this script seeded with the same figures);
  2. seeds it with COPY (timed, per table): 200 customers (contract, service, contact and a
     customer user each), 18 staff (a manager, 10 specialists, 5 engineers, 2 data-centre staff)
     and N complaints over three years: the recent ones open (`--running` C8 clocks running, 10,000
     by default, a fifth of them in their warning window; a tenth as many breached and still owed;
     a fifth as many received and not yet accepted), the rest history (closed, resolved, report
     issued, withdrawn; 3 % with a late first report), a first written report for each reported
     one, the audit trail of every transition (about 4 rows per complaint), and the clock fields
     the complaint keeps (sla_*) derived as the clock engine would; then VACUUM ANALYZE;
  3. starts gunicorn with the project's own configuration (slaportal/gunicorn_conf.py; gthread,
     2 workers x 4 threads unless --worker-class/--workers/--threads say otherwise) on a free port
     with DEBUG off, and signs in through the login form as staff of each role and as customer
     users (session cookies);
  4. measures with `wrk` (a bounded Python thread client if wrk is absent, or --client python):
     each case with 2 connections, `--runs` runs (3) of `--seconds` (10) each, printing the
     median over the runs of req/s, p50 and p99; then a mixed load of 20 users for 2 minutes
     across the pages and API of every role (req/s, p50, p95, p99, errors); then a table of the
     figures next to the goals of issues 14 and 15 (at 1,000,000 complaints the goals are 2x);
  5. stops gunicorn (its memory per worker is printed) and drops the database (--keep keeps it).

--quick: 10,000 complaints (unless --complaints is given), 1,000 running clocks, 3 runs of 2 s,
20 s of mixed load: a smoke run of the whole path in about a minute.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clock_sweep import answers, recreate_database  # noqa: E402
from search_bench import GIVEN, PHRASES, SURNAMES  # noqa: E402

PASSWORD = "bench-" + "scale-2026"
CUSTOMERS = 200
SPECIALISTS, ENGINEERS, DC_STAFF = 10, 5, 2
LOCAL = timedelta(hours=8)  # Asia/Shanghai, no daylight saving: the date in complaint numbers


# --- seeding ------------------------------------------------------------------------------------

def copy_rows(model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY `rows` (values of `columns`, attribute names) into `model`'s table. Every other NOT
    NULL column gets the field's default, so a field added to the model later does not break the
    seeding (a field with neither is an error naming it)."""
    from django.db import connection

    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = [c for c in columns if c not in fields]
    if unknown:
        raise RuntimeError(f"{model.__name__} has no field {unknown}")
    extra: list[tuple[str, Any]] = []
    now = datetime.now().astimezone()
    for f in model._meta.concrete_fields:
        if f.attname in columns or f.null or f.primary_key:
            continue
        if f.has_default():
            value = f.get_default()
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField"):
            value = ""
        else:
            raise RuntimeError(f"{model.__name__}.{f.name} is required and has no default: "
                               "bench/scale_bench.py must seed it")
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        extra.append((f.column, value))
    names = [fields[c].column for c in columns] + [c for c, _ in extra]
    tail = tuple(v for _, v in extra)
    quoted = ", ".join('"' + n + '"' for n in names)
    sql = f'COPY "{model._meta.db_table}" ({quoted}) FROM STDIN'
    n = 0
    with connection.cursor() as cur:
        raw = cur.cursor  # psycopg's own cursor: COPY
        with raw.copy(sql) as cp:
            for row in rows:
                cp.write_row((*row, *tail))
                n += 1
    return n


@dataclass
class Seeded:
    complaints: int = 0
    running: int = 0
    warning: int = 0
    breached: int = 0
    fresh: int = 0
    clocks: int = 0
    reports: int = 0
    audit: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def seed(*, complaints: int, running: int) -> Seeded:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from audit.models import AuditEntry
    from complaints.models import Complaint
    from customers.models import AuthorizedContact, Contract, Customer, CustomerUser, Service
    from reports.models import WrittenReport
    from sla.models import Clock, SlaPolicy

    out = Seeded()
    t0 = time.monotonic()
    User = get_user_model()
    hashed = make_password(PASSWORD)  # one hash for everybody: hashing 218 times would take a minute

    def users(prefix: str, n: int, role: str | None) -> list[Any]:
        made = User.objects.bulk_create([
            User(username=f"{prefix}{i}", email=f"{prefix}{i}@bench.test", password=hashed,
                 first_name=GIVEN[i % len(GIVEN)], last_name=SURNAMES[(i * 7) % len(SURNAMES)])
            for i in range(n)])
        if role:
            Group.objects.get(name=role).user_set.add(*made)
        return made

    manager = users("bench-manager", 1, "manager")[0]
    specialists = users("bench-spec", SPECIALISTS, "specialist")
    engineers = users("bench-eng", ENGINEERS, "engineer")
    users("bench-dc", DC_STAFF, "dc_staff")
    now = timezone.now()
    signed = now - timedelta(days=4 * 365)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"压测客户 {i} 科技有限公司", code=f"bench-{i}") for i in range(CUSTOMERS)])
    contracts = Contract.objects.bulk_create([Contract(
        customer=c, number=f"BENCH-{i:03d}", signed_at=signed, starts_on=signed.date(), term_months=60,
        monthly_fee=3100, installation_fee=500) for i, c in enumerate(customers)])
    Service.objects.bulk_create([Service(
        contract=k, customer=k.customer, kind="colocation", name=f"机柜托管 {i}",
        specialist=specialists[i % SPECIALISTS], engineer=engineers[i % ENGINEERS])
        for i, k in enumerate(contracts)])
    AuthorizedContact.objects.bulk_create([AuthorizedContact(
        customer=c, name=f"{SURNAMES[i % len(SURNAMES)]}{GIVEN[i % len(GIVEN)]}", mobile=f"139{i:08d}",
        email=f"contact{i}@bench.test", channels=["email"]) for i, c in enumerate(customers)])
    cust_users = users("bench-cu", CUSTOMERS, None)
    CustomerUser.objects.bulk_create([CustomerUser(user=u, customer=c) for u, c in zip(cust_users, customers, strict=True)])
    del manager
    out.timings["people"] = time.monotonic() - t0

    policy = SlaPolicy.objects.get(code="C8")
    ct = ContentType.objects.get_for_model(Complaint).pk
    mirrored = {f.name for f in Complaint._meta.concrete_fields} >= {"sla_due_at", "sla_state", "sla_overdue"}
    start_id = (Complaint.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    open_total = min(running * 13 // 10, complaints)
    hist = complaints - open_total
    span = timedelta(days=3 * 365)
    history_end = now - timedelta(days=3)
    rnd = random.Random(15)
    cust_ids = [c.pk for c in customers]
    spec_ids = [u.pk for u in specialists]
    channels = ["complaint_line", "email", "portal", "letter"]
    subjects = ["network", "customer_service", "tech_support"]

    # One plan per complaint, shared by the four tables' generators (kept as tuples: 1M fit).
    # (pk, number, customer, specialist, state, received, accepted, first_report, resolved,
    #  closed, withdrawn, clock) with clock = (state, started, due, warn, warned, met, breached,
    #  completed) or None.
    plans: list[tuple[Any, ...]] = []
    for i in range(complaints):
        pk = start_id + i
        cust = cust_ids[i % CUSTOMERS]
        spec = spec_ids[i % SPECIALISTS]
        accepted = first = resolved = closed = withdrawn = None
        clock: tuple[Any, ...] | None = None
        if i < hist:
            received = history_end - span * ((hist - i) / max(hist, 1))  # timedelta * int overflows at 1M
            r = (i * 7919) % 100
            if r < 6:
                state, withdrawn = "withdrawn", received + timedelta(hours=2)
            else:
                state = "report_issued" if r < 11 else ("resolved" if r < 20 else "closed")
                accepted = received + timedelta(hours=1)
                late = i % 33 == 0
                first = accepted + timedelta(hours=30 if late else 5)
                due, warn = accepted + timedelta(hours=24), accepted + timedelta(hours=16)
                if state in ("resolved", "closed"):
                    resolved = first + timedelta(days=3)
                if state == "closed":
                    closed = resolved + timedelta(days=7)  # type: ignore[operator]
                clock = (("breached", accepted, due, warn, warn, None, due, first) if late
                         else ("met", accepted, due, warn, None, first, None, first))
        else:
            j = i - hist
            kind = j % 13
            received = now - timedelta(hours=20) * (open_total - j) / open_total
            if kind < 10:  # running, within its 24 h; those accepted 16 h ago are in warning
                state, accepted = "accepted", received + timedelta(minutes=5)
                due, warn = accepted + timedelta(hours=24), accepted + timedelta(hours=16)
                warned = warn if warn <= now else None
                clock = ("running", accepted, due, warn, warned, None, None, None)
                out.running += 1
                out.warning += warned is not None
            elif kind == 10:  # past due: breached by the sweep, the first report still owed
                received = now - timedelta(hours=26) - timedelta(minutes=rnd.randrange(0, 1440))
                state, accepted = "accepted", received + timedelta(minutes=10)
                due, warn = accepted + timedelta(hours=24), accepted + timedelta(hours=16)
                clock = ("breached", accepted, due, warn, warn, None, due, None)
                out.breached += 1
            else:
                state = "received"
                out.fresh += 1
        number = f"TS{received + LOCAL:%Y%m%d}-{pk:06d}"
        plans.append((pk, number, cust, spec, state, received, accepted, first, resolved, closed,
                      withdrawn, clock))
    out.complaints = complaints

    def complaint_rows() -> Iterator[tuple[Any, ...]]:
        for (pk, number, cust, spec, state, received, accepted, first, resolved, closed, withdrawn,
             clock) in plans:
            name = SURNAMES[pk % len(SURNAMES)] + GIVEN[(pk // 7) % len(GIVEN)]
            row: tuple[Any, ...] = (pk, number, cust, name, f"138{pk % 100_000_000:08d}", f"c{pk}@bench.test",
                   channels[pk % 4], subjects[pk % 3], f"{PHRASES[pk % len(PHRASES)]}（{pk}）",
                   "网络质量问题，影响业务，请尽快处理。", spec, state, received, accepted, first, resolved,
                   closed, withdrawn, spec)
            if mirrored:
                if clock is None:
                    row += (None, "", False)
                else:
                    row += (clock[2], clock[0], clock[0] == "breached" and clock[7] is None)
            yield row

    cols = ["id", "number", "customer_id", "complainant_name", "complainant_phone", "complainant_email",
            "channel", "subject", "title", "description", "specialist_id", "state", "received_at",
            "accepted_at", "first_report_at", "resolved_at", "closed_at", "withdrawn_at", "created_by_id"]
    if mirrored:
        cols += ["sla_due_at", "sla_state", "sla_overdue"]
    t = time.monotonic()
    copy_rows(Complaint, cols, complaint_rows())
    with connection.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    [Complaint._meta.db_table, start_id + complaints])
    out.timings["complaints"] = time.monotonic() - t

    def clock_rows() -> Iterator[tuple[Any, ...]]:
        for pk, number, cust, spec, *_, clock in plans:
            if clock is None:
                continue
            state, started, due, warn, warned, met, breached, completed = clock
            yield (ct, pk, f"{number} 投诉首次书面报告", policy.pk, cust, spec, 24, "hours", "24x7", state,
                   started, due, warn, warned, warned, met, breached, breached, completed)

    t = time.monotonic()
    out.clocks = copy_rows(Clock, [
        "content_type_id", "object_id", "label", "policy_id", "customer_id", "assignee_id", "target",
        "unit", "calendar", "state", "started_at", "due_at", "warn_at", "warned_at", "warn_escalated_at",
        "met_at", "breached_at", "breach_escalated_at", "completed_at"], clock_rows())
    out.timings["clocks"] = time.monotonic() - t

    content = json.dumps({"findings": "核心交换机端口故障导致链路抖动。", "actions_taken": "已更换端口。",
                          "next_steps": "观察一周。", "expected_resolution": "3 天内"}, ensure_ascii=False)

    def report_rows() -> Iterator[tuple[Any, ...]]:
        for pk, number, cust, spec, _s, _r, _a, first, *_ in plans:
            if first is None:
                continue
            yield ("complaint", f"{number}-R1", ct, pk, cust, 1, 1, "zh-hans", content,
                   f"reports/{first:%Y/%m}/{number}-R1.pdf", "0" * 64, 48_000, first, spec)

    t = time.monotonic()
    out.reports = copy_rows(WrittenReport, [
        "kind", "number", "content_type_id", "object_id", "customer_id", "sequence", "version", "language",
        "content", "file", "sha256", "size", "issued_at", "issued_by_id"], report_rows())
    out.timings["reports"] = time.monotonic() - t

    def audit_rows() -> Iterator[tuple[Any, ...]]:
        for pk, number, _c, spec, _state, received, accepted, first, resolved, closed, withdrawn, _k in plans:
            yield (ct, pk, "create", "", "received", spec, received, "{}")
            if withdrawn is not None:
                yield (ct, pk, "withdraw", "received", "withdrawn", spec, withdrawn, "{}")
                continue
            if accepted is None:
                continue
            yield (ct, pk, "accept", "received", "accepted", spec, accepted, "{}")
            if first is None:
                continue
            yield (ct, pk, "report", "", "", spec, first, json.dumps({"report": f"{number}-R1"}))
            if closed is not None:
                yield (ct, pk, "close", "resolved", "closed", spec, closed, "{}")
            elif resolved is not None:
                yield (ct, pk, "resolve", "report_issued", "resolved", spec, resolved, "{}")

    t = time.monotonic()
    out.audit = copy_rows(AuditEntry, ["content_type_id", "object_id", "action", "from_state", "to_state",
                                       "actor_id", "at", "data"], audit_rows())
    out.timings["audit"] = time.monotonic() - t

    t = time.monotonic()
    with connection.cursor() as cur:
        for model in (Complaint, Clock, WrittenReport, AuditEntry):
            cur.execute(f'VACUUM (ANALYZE) "{model._meta.db_table}"')
        cur.execute("ANALYZE")
    out.timings["vacuum analyze"] = time.monotonic() - t
    return out


# --- the server and signing in --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "slaportal.wsgi:application", "-c", "slaportal/gunicorn_conf.py",
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--no-control-socket"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as r:
                if r.status == 200:
                    return proc
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("gunicorn did not answer within 90 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def worker_rss_mb(proc: subprocess.Popen[bytes]) -> list[float]:
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{proc.pid}$", status, re.M):
            m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            if m:
                out.append(int(m.group(1)) / 1024)
    return out


def sign_in(base: str, username: str) -> str:
    """The session cookie of `username`, signed in through the login form like a browser."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=30) as r:
        page = r.read().decode()
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not m:
        raise SystemExit("the login page has no CSRF token")
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                   "csrfmiddlewaretoken": m.group(1)}).encode()
    req = urllib.request.Request(f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"})
    with opener.open(req, timeout=60) as r:
        r.read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit(f"signing in as {username} failed (no session cookie)")
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies.get('csrftoken', '')}"


def fetch(base: str, cookie: str, path: str, *, timeout: float = 60) -> tuple[int, bytes, float]:
    accept = "application/json" if path.startswith("/api/") else "text/html"
    req = urllib.request.Request(base + path, headers={"Cookie": cookie, "Accept": accept})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    return status, body, time.perf_counter() - t


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a: Any, **k: Any) -> None:
        return None


urllib.request.install_opener(urllib.request.build_opener(NoRedirect()))  # a 302 to the login is a failure


# --- load generators --------------------------------------------------------------------------------

WRK_LUA = r"""
-- Cycles through the requests listed in a file: one "cookie<TAB>path" per line. Each thread
-- starts at its own offset, so concurrent connections ask for different things.
local reqs = {}
local i = 0
function setup(thread)
  thread:set("offset", counter or 0)
  counter = (counter or 0) + 7
end
function init(args)
  for line in io.lines(args[1]) do
    local cookie, path = line:match("^([^\t]*)\t(.+)$")
    if path then
      local accept = "text/html"
      if path:sub(1, 5) == "/api/" then accept = "application/json" end
      table.insert(reqs, wrk.format("GET", path, {["Cookie"] = cookie, ["Accept"] = accept}))
    end
  end
  i = offset or 0
end
function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class Run:
    rps: float
    p50: float  # ms
    p95: float
    p99: float
    errors: int
    requests: int


def run_wrk(base: str, reqs: list[tuple[str, str]], *, connections: int, seconds: float, work: Path) -> Run:
    lua, listing = work / "cycle.lua", work / f"requests-{secrets.token_hex(4)}.txt"
    lua.write_text(WRK_LUA)
    listing.write_text("".join(f"{c}\t{p}\n" for c, p in reqs))
    threads = min(connections, 2)
    proc = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
                           "--timeout", "30s", "-s", str(lua), base, "--", str(listing)],
                          capture_output=True, text=True, timeout=seconds + 120)
    listing.unlink()
    m = re.search(r"^WRKJSON (\{.*\})$", proc.stdout, re.M)
    if proc.returncode != 0 or not m:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    d = json.loads(m.group(1))
    errors = d["connect"] + d["read"] + d["write"] + d["status"] + d["timeout"]
    return Run(rps=d["requests"] / (d["duration_us"] / 1e6), p50=d["p50"] / 1000, p95=d["p95"] / 1000,
               p99=d["p99"] / 1000, errors=errors, requests=d["requests"])


def run_python(base: str, reqs: list[tuple[str, str]], *, connections: int, seconds: float, work: Path) -> Run:
    """A bounded client: `connections` threads, each with one keep-alive connection, asking in turn."""
    host, port = urllib.parse.urlsplit(base).hostname or "127.0.0.1", urllib.parse.urlsplit(base).port
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(k: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        i = k * 7
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            cookie, path = reqs[i % len(reqs)]
            i += 1
            accept = "application/json" if path.startswith("/api/") else "text/html"
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": cookie, "Accept": accept})
                r = conn.getresponse()
                r.read()
                if r.status >= 400:
                    bad += 1
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)
            errors[0] += bad

    t0 = time.monotonic()
    threads = [threading.Thread(target=user, args=(k,)) for k in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - t0
    s = sorted(lat) or [0.0]

    def pct(p: float) -> float:
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] * 1000

    return Run(rps=len(lat) / elapsed, p50=pct(50), p95=pct(95), p99=pct(99), errors=errors[0],
               requests=len(lat))


# --- the cases and the goals ------------------------------------------------------------------------

@dataclass
class Case:
    key: str
    label: str
    reqs: list[tuple[str, str]]
    runs: list[Run] = field(default_factory=list)

    def med(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.runs)


def goals(cases: dict[str, Case], mixed: Case | None, factor: float) -> list[tuple[str, str, str, bool]]:
    """(what, figure, goal, met) for every goal of issues 14 and 15 (`factor` relaxes them)."""
    out: list[tuple[str, str, str, bool]] = []

    def ms(x: float) -> str:
        return f"{x:.1f} ms"

    first = cases["api_first"]
    out.append(("API list first page: p50", ms(first.med("p50")), f"<= {ms(15 * factor)}",
                first.med("p50") <= 15 * factor))
    out.append(("API list first page: req/s", f"{first.med('rps'):.0f}", f">= {100 / factor:.0f}",
                first.med("rps") >= 100 / factor))
    for key in ("api_last", "api_overdue"):
        c = cases[key]
        ratio = c.med("p50") / max(first.med("p50"), 0.001)
        out.append((f"{c.label}: p50 vs first page", f"{ms(c.med('p50'))} ({ratio:.2f}x)", "<= 1.5x first page",
                    ratio <= 1.5))
    c = cases["html_detail"]
    out.append(("HTML complaint detail: req/s", f"{c.med('rps'):.0f}", f">= {100 / factor:.0f}",
                c.med("rps") >= 100 / factor))
    c = cases["html_list"]
    out.append(("HTML complaint list: p50 (issue 15)", ms(c.med("p50")), f"<= {ms(15 * factor)}",
                c.med("p50") <= 15 * factor))
    for key in ("html_list", "home_manager", "home_specialist", "home_customer"):
        c = cases[key]
        out.append((f"{c.label}: median (issue 14)", ms(c.med("p50")), f"<= {ms(30 * factor)}",
                    c.med("p50") <= 30 * factor))
        out.append((f"{c.label}: p99 (issue 14)", ms(c.med("p99")), f"<= {ms(100 * factor)}",
                    c.med("p99") <= 100 * factor))
    c = cases["search"]
    out.append(("search over complaints: median (issue 14)", ms(c.med("p50")), f"<= {ms(50 * factor)}",
                c.med("p50") <= 50 * factor))
    if mixed is not None:
        out.append(("mixed load, 20 users: req/s", f"{mixed.med('rps'):.0f}", f">= {80 / factor:.0f}",
                    mixed.med("rps") >= 80 / factor))
        out.append(("mixed load, 20 users: p95", ms(mixed.med("p95")), f"<= {ms(300 * factor)}",
                    mixed.med("p95") <= 300 * factor))
        errs = sum(r.errors for r in mixed.runs)
        out.append(("mixed load, 20 users: errors", str(errs), "0", errs == 0))
    return out


def same_origin_links(html: str) -> list[str]:
    skip = ("/accounts/logout", "/static/", "/media/", "/i18n/", "/admin/", "/api/docs", "/api/schema")
    links = []
    for href in re.findall(r'href="(/[^"#]*)"', html):
        href = href.replace("&amp;", "&")
        if href.startswith(skip) or href == "/" or re.search(r"(pdf|csv|xlsx|export|download|new/)", href):
            continue
        if href not in links:
            links.append(href)
    return links


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--complaints", type=int, default=None, help="complaints to seed (100000)")
    ap.add_argument("--running", type=int, default=None, help="running C8 clocks (10000)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=None, help="length of each run (10)")
    ap.add_argument("--mixed-seconds", type=float, default=None, help="mixed load (120)")
    ap.add_argument("--mixed-users", type=int, default=20)
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--client", default="auto", choices=["auto", "wrk", "python"])
    ap.add_argument("--quick", action="store_true", help="10,000 complaints, short runs")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse the database a previous --keep run seeded with the same figures")
    ap.add_argument("--only", default="", help="comma-separated case keys to measure (development)")
    ap.add_argument("--mix-report", type=int, default=0, metavar="N",
                    help="before the mixed load, time each of its URLs alone and print the N slowest")
    opts = ap.parse_args()
    n = opts.complaints if opts.complaints is not None else (10_000 if opts.quick else 100_000)
    running = opts.running if opts.running is not None else (1_000 if opts.quick else 10_000)
    running = min(running, n * 10 // 13)
    seconds = opts.seconds if opts.seconds is not None else (2.0 if opts.quick else 10.0)
    mixed_seconds = opts.mixed_seconds if opts.mixed_seconds is not None else (20.0 if opts.quick else 120.0)
    factor = 2.0 if n >= 1_000_000 else 1.0
    client = opts.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (scripts/bootstrap.sh dev installs it)")
    load = run_wrk if client == "wrk" else run_python

    db_url = os.environ.get("BENCH_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/slaportal_bench_scale"
    if not db_url.startswith("postgres") or not answers(urllib.parse.urlsplit(db_url).hostname or "127.0.0.1",
                                                        urllib.parse.urlsplit(db_url).port or 5432):
        raise SystemExit(f"this benchmark needs PostgreSQL: {db_url} does not answer")
    var_dir = ROOT / "var" / "bench_scale"
    (var_dir / "staticfiles").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "SLAPORTAL_VAR_DIR": str(var_dir), "CELERY_BROKER_URL": "filesystem://",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend", "LOG_LEVEL": "WARNING",
           "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "0", "SESSION_COOKIE_SECURE": "0",
           "CSRF_COOKIE_SECURE": "0", "WEB_WORKER_CLASS": opts.worker_class,
           "WEB_CONCURRENCY": str(opts.workers), "WEB_THREADS": str(opts.threads)}
    env.pop("DJANGO_DEBUG", None)
    os.environ.update(env)
    print(f"database={db_url} complaints={n:,} running clocks={running:,} client={client} "
          f"web={opts.worker_class} {opts.workers} workers x {opts.threads if opts.worker_class == 'gthread' else 1} "
          f"threads, keep-alive {os.environ.get('WEB_KEEPALIVE') or 0} s; runs={opts.runs} x {seconds:g} s, mixed {opts.mixed_users} users x {mixed_seconds:g} s",
          flush=True)

    marker = var_dir / "seeded.json"
    wanted = {"database": db_url, "complaints": n, "running": running}
    reuse = opts.reuse and marker.exists() and json.loads(marker.read_text()).get("seed") == wanted
    t = time.monotonic()
    if not reuse:
        marker.unlink(missing_ok=True)
        recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"database {'reused and ' if reuse else ''}migrated in {time.monotonic() - t:.1f} s", flush=True)

    import django

    django.setup()
    from django.db import connection

    from complaints.models import Complaint

    if reuse:
        seeded = Seeded(**{k: v for k, v in json.loads(marker.read_text())["seeded"].items()})
        print("seeded earlier: " + ", ".join(f"{k}={v:,}" for k, v in vars(seeded).items() if k != "timings"))
    else:
        t = time.monotonic()
        seeded = seed(complaints=n, running=running)
        total = time.monotonic() - t
        print(f"seeded in {total:.1f} s: {seeded.complaints:,} complaints ({seeded.running:,} with a running "
              f"clock, {seeded.warning:,} of them warned; {seeded.breached:,} breached and owed; "
              f"{seeded.fresh:,} not yet accepted), {seeded.clocks:,} clocks, {seeded.reports:,} reports, "
              f"{seeded.audit:,} audit rows", flush=True)
        print("  " + ", ".join(f"{k} {v:.1f} s" for k, v in seeded.timings.items()), flush=True)
        marker.write_text(json.dumps({"seed": wanted, "seeded": vars(seeded)}))
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"database size: {cur.fetchone()[0]}", flush=True)

    # A sample of complaints for the detail pages: every state, with their reports and trails.
    sample = list(Complaint.objects.order_by("?").values_list("pk", "customer_id")[:60]) if n <= 200_000 else [
        (pk, c) for pk, c in Complaint.objects.filter(pk__in=random.Random(1).sample(range(1, n + 1), 200))
        .values_list("pk", "customer_id")][:60]
    customer_ids = sorted({c for _, c in sample})
    own = {c: list(Complaint.objects.filter(customer_id=c).order_by("-received_at")
                   .values_list("pk", flat=True)[:5]) for c in customer_ids[:6]}
    search_terms = ["邮件收发", "机房网络", f"{sample[0][0] % 100000:05d}", "138", "发票"]
    connection.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = var_dir / "gunicorn.log"
    proc = start_server(env, port, log)
    cases: dict[str, Case] = {}
    mixed: Case | None = None
    ok = True
    try:
        from customers.models import CustomerUser

        staff = {"manager": "bench-manager0", "specialist": "bench-spec0", "engineer": "bench-eng0",
                 "dc_staff": "bench-dc0"}
        cookies = {role: sign_in(base, name) for role, name in staff.items()}
        cust_names = dict(CustomerUser.objects.filter(customer_id__in=list(own)).values_list("customer_id",
                                                                                            "user__username"))
        connection.close()
        cust_cookies = {c: sign_in(base, cust_names[c]) for c in own}
        first_cust = next(iter(own))
        mgr = cookies["manager"]

        status, body, _ = fetch(base, mgr, "/api/complaints/?page_size=25")
        first = json.loads(body)
        page_size = len(first.get("results", []))
        if first.get("last"):
            u = urllib.parse.urlsplit(first["last"])
            last_path = u.path + ("?" + u.query if u.query else "")
        else:
            last_path = f"/api/complaints/?page_size=25&page={max(1, -(-int(first['count']) // 25))}"
        print(f"API first page: {page_size} rows of count={first.get('count')} "
              f"({'estimate' if first.get('count_is_estimate') else 'exact'}); last: {last_path[:90]}", flush=True)
        details = [(mgr, f"/complaints/{pk}/") for pk, _ in sample[:50]]
        specs = [
            ("api_first", "API list, first page of 25", [(mgr, "/api/complaints/?page_size=25")]),
            ("api_last", "API list, last page", [(mgr, last_path)]),
            ("api_overdue", "API list, ?overdue=true", [(mgr, "/api/complaints/?overdue=true&page_size=25")]),
            ("api_customer", "API list, customer user", [(cust_cookies[first_cust], "/api/complaints/?page_size=25")]),
            ("api_detail", "API complaint detail", [(mgr, f"/api/complaints/{pk}/") for pk, _ in sample[:50]]),
            ("html_detail", "HTML complaint detail", details),
            ("html_list", "HTML complaint list", [(mgr, "/complaints/")]),
            ("home_manager", f"home, manager ({seeded.running:,} running clocks)", [(mgr, "/")]),
            ("home_specialist", "home, specialist", [(cookies["specialist"], "/")]),
            ("home_customer", "home, customer user", [(cust_cookies[first_cust], "/")]),
            ("search", "search /api/search/", [(mgr, f"/api/search/?q={urllib.parse.quote(q)}")
                                              for q in search_terms]),
        ]
        only = {k for k in opts.only.split(",") if k}
        for key, label, reqs in specs:
            cases[key] = Case(key, label, reqs)
        for case in cases.values():
            for cookie, path in case.reqs:  # each answers 200 (not a redirect to the login)
                status, body, took = fetch(base, cookie, path)
                if status != 200:
                    print(f"{case.label}: {path} answered {status}: {body[:300]!r}", flush=True)
                    ok = False

        # The mixed load: every role's pages (the links of its home page) and API, each user in turn.
        mix: list[tuple[str, str]] = []
        api_common = ["/api/complaints/?page_size=25", "/api/complaints/?overdue=true&page_size=25",
                      "/api/clocks/", "/api/inbox/unread-count/", "/api/clocks/live/", "/api/incidents/",
                      "/api/credits/", f"/api/search/?q={urllib.parse.quote('网络')}"]
        roles = [(role, cookie) for role, cookie in cookies.items()] + [
            (f"customer {c}", cust_cookies[c]) for c in own]
        for role, cookie in roles:
            status, body, _ = fetch(base, cookie, "/")
            pages = ["/"] + same_origin_links(body.decode(errors="replace"))[:14]
            if role.startswith("customer"):
                c = int(role.split()[1])
                pages += [f"/complaints/{pk}/" for pk in own[c]] + [f"/api/complaints/{pk}/" for pk in own[c][:2]]
            else:
                pages += [p for _, p in details[:5]] + [last_path]
            kept = []
            for p in pages + api_common:
                status, _b, took = fetch(base, cookie, p)
                if status == 200 and took < 5:
                    kept.append(p)
                elif status >= 500:
                    print(f"mixed load: {role} {p} answered {status}", flush=True)
                    ok = False
            mix += [(cookie, p) for p in kept]
            print(f"mixed load: {role}: {len(kept)} URLs", flush=True)
        random.Random(14).shuffle(mix)
        if opts.mix_report:
            # Each URL of the mix alone, the median of three: which pages the mixed load waits on.
            timed = []
            for cookie, p in sorted(set(mix), key=lambda cp: cp[1]):
                took = sorted(fetch(base, cookie, p)[2] for _ in range(3))[1]
                timed.append((took, p))
            timed.sort(reverse=True)
            print(f"slowest of the mix's {len(timed)} URLs alone (median of 3):", flush=True)
            for took, p in timed[:opts.mix_report]:
                print(f"  {took * 1000:7.1f} ms  {p[:100]}", flush=True)

        print(f"\n{'case':44} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}   (median of {opts.runs} "
              f"runs of {seconds:g} s, {opts.connections} connections)", flush=True)
        for key, case in cases.items():
            if only and key not in only:
                continue
            load(base, case.reqs, connections=opts.connections, seconds=min(seconds, 2), work=var_dir)  # warm
            for _ in range(opts.runs):
                case.runs.append(load(base, case.reqs, connections=opts.connections, seconds=seconds, work=var_dir))
            each = " ".join(f"{r.p50:.1f}" for r in case.runs)
            print(f"{case.label:44} {case.med('rps'):7.1f} {case.med('p50'):8.1f} {case.med('p99'):8.1f} "
                  f"{sum(r.errors for r in case.runs):6d}   p50 of each run: {each}", flush=True)
        if not only or "mixed" in only:
            mixed = Case("mixed", f"mixed load, {opts.mixed_users} users", mix)
            mixed.runs.append(load(base, mix, connections=opts.mixed_users, seconds=mixed_seconds, work=var_dir))
            r = mixed.runs[0]
            print(f"\nmixed load: {opts.mixed_users} users for {mixed_seconds:g} s over {len(mix)} URLs of "
                  f"{len(roles)} users of every role: {r.rps:.1f} req/s, p50 {r.p50:.1f} ms, p95 {r.p95:.1f} ms, "
                  f"p99 {r.p99:.1f} ms, {r.errors} errors of {r.requests:,} requests", flush=True)
        rss = worker_rss_mb(proc)
        if rss:
            print(f"gunicorn workers' memory: {', '.join(f'{x:.0f} MB' for x in rss)}", flush=True)
    finally:
        stop_server(proc)

    if not only:
        print(f"\nGoals (issue 15 at {n:,} complaints{', relaxed 2x' if factor > 1 else ''}; issue 14):")
        print(f"{'':52} {'figure':>20}  {'goal':<20}")
        for what, figure, goal, met in goals(cases, mixed, factor):
            print(f"{what:52} {figure:>20}  {goal:<20} {'met' if met else 'MISSED'}")
    if not opts.keep:
        import psycopg

        base_url, name = db_url.rsplit("/", 1)
        with psycopg.connect(f"{base_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        marker.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
