"""`manage.py load_demo`: the demo data `make run` loads on every start.

Customers with contracts (each contract starts its C3 installation clock), services, authorized
contacts with MRTG secrets, one login per role, and two short clocks that warn and breach a few
minutes after start so a new user sees the SLA engine work. Idempotent: everything is found by a
natural key first; the short clocks are topped up only when none of them is open.

The names below are importable without Django set up (scripts/run.py prints them), so models are
imported inside the functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError

# One password for every demo login, printed by `make run`. Demo data is for trying the portal
# out: run with DEMO_DATA=0 (see README) anywhere real.
DEMO_PASSWORD = "slaportal-demo"

# username, role (a staff group; "admin" = superuser; "customer:<code>" = customer user), label
LOGINS: list[tuple[str, str, str]] = [
    ("admin", "admin", "超级管理员 Administrator"),
    ("manager", "manager", "经理 Manager"),
    ("specialist", "specialist", "客服专员 Customer-service specialist"),
    ("engineer", "engineer", "技术工程师 Technical engineer"),
    ("dcstaff", "dc_staff", "机房值班 Data-centre staff"),
    ("huaxia", "customer:demo-huaxia", "客户 华夏数据科技有限公司"),
    ("jinlong", "customer:demo-jinlong", "客户 金龙国际贸易有限公司"),
]

CUSTOMERS: list[dict[str, Any]] = [
    {
        "code": "demo-huaxia", "name": "华夏数据科技有限公司", "address": "北京市海淀区中关村大街 1 号",
        "contract": {"number": "HT-DEMO-0001", "monthly_fee": Decimal("3100.00"),
                     "installation_fee": Decimal("800.00")},
        "services": [("colocation", "托管服务器 HX-01"), ("rack", "机柜 A-12")],
        "contacts": [
            {"name": "张伟", "mobile": "13800138001", "email": "zhangwei@huaxia.example",
             "channels": ["mobile", "email"], "priority": 1, "mrtg_username": "huaxia-mrtg"},
            {"name": "李娜", "office_phone": "010-62000001", "fax": "010-62000002",
             "channels": ["office_phone", "fax"], "priority": 2, "mrtg_username": "huaxia-ops"},
        ],
    },
    {
        "code": "demo-jinlong", "name": "金龙国际贸易有限公司", "address": "上海市浦东新区世纪大道 100 号",
        "contract": {"number": "HT-DEMO-0002", "monthly_fee": Decimal("4650.00"),
                     "installation_fee": Decimal("1200.00")},
        "services": [("rental", "租用服务器 JL-WEB"), ("email", "企业邮箱 jinlong.example")],
        "contacts": [
            {"name": "王芳", "mobile": "13900139002", "pager": "95000-8802",
             "email": "wangfang@jinlong.example", "channels": ["pager", "mobile", "email"],
             "priority": 1, "mrtg_username": "jinlong-mrtg", "language": "en"},
        ],
    },
    {
        "code": "demo-lanhai", "name": "蓝海网络服务有限公司", "address": "广州市天河区天河路 200 号",
        "contract": {"number": "HT-DEMO-0003", "monthly_fee": Decimal("1860.00"),
                     "installation_fee": Decimal("0.00")},
        "services": [("colocation", "托管服务器 LH-DB")],
        "contacts": [
            {"name": "陈强", "mobile": "13700137003", "email": "chenqiang@lanhai.example",
             "channels": ["email", "mobile"], "priority": 1, "mrtg_username": "lanhai-mrtg"},
        ],
    },
]

# The short clocks: (policy, service name, minutes already elapsed at start). C4 runs 15 minutes
# and warns at 67 %: started 9.5 minutes ago it warns in about half a minute and breaches in 5.5.
# C5 runs 30 minutes: started 27.5 minutes ago its warning is already due (sent on the first
# sweep) and it breaches 2.5 minutes after start.
SHORT_CLOCKS: list[tuple[str, str, float]] = [
    ("C4", "托管服务器 HX-01", 9.5),
    ("C5", "租用服务器 JL-WEB", 27.5),
]


class Command(BaseCommand):
    help = "Load the demo customers, users and running clocks (safe to run on every start)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-clocks", action="store_true",
                            help="Do not top up the short demo clocks.")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.db import transaction
        from django.utils import timezone, translation

        from slaportal.errors import DomainError

        now = timezone.now()
        created: dict[str, int] = {}
        try:
            # Labels the services write (clock labels, audit reasons) in the portal's language.
            with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
                users = _users(created)
                services = _customers(created, users=users, now=now)
            if not options["no_clocks"]:
                with translation.override(settings.LANGUAGE_CODE):
                    _short_clocks(created, services=services, users=users, now=now)
        except DomainError as e:
            raise CommandError(f"demo data not loaded: {e.message} {e.field_errors or ''}") from e
        summary = ", ".join(f"{k}={v}" for k, v in created.items() if v) or "nothing new"
        self.stdout.write(f"load_demo: created {summary}")
        if options["verbosity"] >= 1:
            self.stdout.write(logins_table())


def logins_table() -> str:
    width = max(len(u) for u, _r, _l in LOGINS)
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    lines += [f"  {u.ljust(width)}  {label}" for u, _r, label in LOGINS]
    return "\n".join(lines)


def _bump(created: dict[str, int], key: str, n: int = 1) -> None:
    created[key] = created.get(key, 0) + n


def _users(created: dict[str, int]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    users: dict[str, Any] = {}
    for username, role, label in LOGINS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=f"{username}@slaportal.example",
                        first_name=label.split(" ", 1)[0])
            # The password is set once: a demo user who changed it keeps the new one.
            user.set_password(DEMO_PASSWORD)
            _bump(created, "users")
        is_staff_role = not role.startswith("customer:")
        user.is_staff = is_staff_role  # staff roles use the admin, with their group's permissions
        user.is_superuser = role == "admin"
        user.save()
        if is_staff_role and role != "admin":
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        users[username] = user
    return users


def _customers(created: dict[str, int], *, users: dict[str, Any], now: datetime) -> dict[str, Any]:
    from customers.models import AuthorizedContact, Contract, Customer, CustomerUser, Service
    from customers.services import contact_save, contract_create, customer_create, service_create

    actor = users["admin"]
    services: dict[str, Any] = {}
    for spec in CUSTOMERS:
        customer = Customer.objects.filter(code=spec["code"]).first()
        if customer is None:
            customer = customer_create(name=spec["name"], code=spec["code"],
                                       address=spec["address"], actor=actor)
            _bump(created, "customers")
        c = spec["contract"]
        contract = Contract.objects.filter(number=c["number"]).first()
        if contract is None:
            # Signed yesterday: its C3 installation clock runs for three working days.
            contract = contract_create(customer=customer, number=c["number"],
                                       signed_at=now - timedelta(days=1),
                                       monthly_fee=c["monthly_fee"],
                                       installation_fee=c["installation_fee"], actor=actor, now=now)
            _bump(created, "contracts")
        for kind, name in spec["services"]:
            service = Service.objects.filter(contract=contract, name=name).first()
            if service is None:
                service = service_create(contract=contract, kind=kind, name=name,
                                         specialist=users["specialist"], engineer=users["engineer"],
                                         actor=actor)
                _bump(created, "services")
            services[name] = service
        for data in spec["contacts"]:
            if not AuthorizedContact.objects.filter(customer=customer, name=data["name"]).exists():
                contact_save(customer=customer, data=data, mrtg_secret=f"{data['mrtg_username']}-secret",
                             actor=actor)
                _bump(created, "contacts")
    for username, role, _label in LOGINS:
        if role.startswith("customer:"):
            customer = Customer.objects.get(code=role.split(":", 1)[1])
            _link, new = CustomerUser.objects.get_or_create(
                user=users[username], defaults={"customer": customer, "is_customer_admin": True})
            if new:
                _bump(created, "customer_users")
    return services


def _short_clocks(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                  now: datetime) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from customers.models import Service
    from sla.choices import ClockState
    from sla.models import Clock, SlaPolicy
    from sla.services import clock_start

    subjects = [services[name] for _code, name, _m in SHORT_CLOCKS]
    still_open = Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(Service),
        object_id__in=[s.pk for s in subjects],
        policy__code__in=[code for code, _n, _m in SHORT_CLOCKS],
        state__in=[ClockState.RUNNING, ClockState.PAUSED],
    ).exists()
    if still_open:
        return
    with transaction.atomic():
        for code, name, minutes in SHORT_CLOCKS:
            service = services[name]
            policy = SlaPolicy.objects.get(code=code)
            clock_start(subject=service, policy_code=code, contract=service.contract,
                        customer=service.customer, assignee=users["engineer"],
                        label=f"演示 Demo · {policy.name_zh} · {service.name}",
                        started_at=now - timedelta(minutes=minutes), actor=users["admin"],
                        reason="demo data", now=now)
            _bump(created, "clocks")
