"""`manage.py load_demo`: the demo data `make run` loads on every start.

Customers with contracts, services (each hosting service opens its installation order and its C3
clock), authorized
contacts with MRTG secrets, one login per role, and two short clocks that warn and breach a few
minutes after start so a new user sees the SLA engine work. Then a little of every workflow, made
only through the apps' services (so every state machine, clock, audit entry and notice is the real
one): complaints, past incidents with classified outages, two monitored targets, an authorized
operation in progress, two machine-room visits, and the e-mail guarantee's figures (a mail
platform, the e-mail customer's domains, a month of latency, a fault and an adjustment).
Idempotent: everything is found by a natural key or its demo title first; the short clocks are
topped up only when none of them is open; each workflow's demo objects are made once, in one
transaction, and never again.

The names below are importable without Django set up (scripts/run.py prints them), so models are
imported inside the functions."""

from __future__ import annotations

import os
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

# The demo people's full names: the portal shows people by full name, never by login (issue 14).
# A Chinese name is written whole in first_name (get_full_name() puts first_name first).
DEMO_FULL_NAMES: dict[str, str] = {
    "admin": "赵立新", "manager": "王建国", "specialist": "李静", "engineer": "周涛",
    "dcstaff": "刘强", "huaxia": "陈晓华", "jinlong": "林志明",
}

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
    {
        # A customer since half a year: last month is closed with a C1 breach, its rent waiver
        # proposed and its monthly statement issued (the settlement pages are not empty on day 1).
        "code": "demo-yuanhang", "name": "远航物流有限公司", "address": "深圳市南山区科技园 8 号",
        "contract": {"number": "HT-DEMO-0004", "monthly_fee": Decimal("2800.00"),
                     "installation_fee": Decimal("600.00"), "signed_days_ago": 200},
        "services": [("rental", "租用服务器 YH-APP")],
        "contacts": [
            {"name": "赵敏", "mobile": "13600136004", "email": "zhaomin@yuanhang.example",
             "channels": ["mobile", "email"], "priority": 1, "mrtg_username": "yuanhang-mrtg",
             "receives_statements": True},
        ],
    },
]
SETTLEMENT_SERVICE = "租用服务器 YH-APP"

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
        parser.add_argument("--no-workflows", action="store_true",
                            help="Do not load the demo complaints, incidents, monitored targets, "
                                 "operations and visits.")

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
        if not options["no_workflows"]:
            self._workflows(created, services=services, users=users, now=now)
        summary = ", ".join(f"{k}={v}" for k, v in created.items() if v) or "nothing new"
        self.stdout.write(f"load_demo: created {summary}")
        if options["verbosity"] >= 1:
            self.stdout.write(logins_table())


    def _workflows(self, created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                   now: datetime) -> None:
        import logging

        from django.conf import settings
        from django.db import transaction
        from django.utils import translation
        from kombu.exceptions import OperationalError as BrokerError

        from slaportal.errors import DomainError

        # WeasyPrint logs every layout step at INFO: keep `make run`'s start-up output short.
        pdf_log = logging.getLogger("weasyprint")
        level = pdf_log.level
        pdf_log.setLevel(logging.WARNING)
        try:
            for name, step in WORKFLOWS:
                # One transaction per workflow: its demo objects are all there or none is, so a
                # failure is retried whole on the next start. A workflow that cannot be loaded
                # (say a promise switched off by hand) is reported and does not stop the start;
                # nor does a broker that cannot take the notifications queued after commit.
                try:
                    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
                        step(created, services=services, users=users, now=now)
                except DomainError as e:
                    self.stderr.write(f"load_demo: demo {name} not loaded: {e.message} "
                                      f"{e.field_errors or ''}".rstrip())
                except (BrokerError, OSError) as e:
                    self.stderr.write(f"load_demo: demo {name}: broker or storage unavailable "
                                      f"({type(e).__name__}: {e})")
        finally:
            pdf_log.setLevel(level)


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
            user = User(username=username, email=f"{username}@slaportal.example")
            # The password is set once: a demo user who changed it keeps the new one.
            user.set_password(DEMO_PASSWORD)
            _bump(created, "users")
        if not user.first_name or user.first_name == label.split(" ", 1)[0]:
            # New, or still named by the role word an earlier load gave: give the person's name.
            user.first_name, user.last_name = DEMO_FULL_NAMES.get(username, ""), ""
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
    from orders.models import InstallationOrder
    from orders.services import order_open_for_service

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
            # Signed yesterday: the installation orders of its services are due three working
            # days after that (C3).
            contract = contract_create(customer=customer, number=c["number"],
                                       signed_at=now - timedelta(days=c.get("signed_days_ago", 1)),
                                       monthly_fee=c["monthly_fee"],
                                       installation_fee=c["installation_fee"], actor=actor, now=now)
            _bump(created, "contracts")
        for kind, name in spec["services"]:
            service = Service.objects.filter(contract=contract, name=name).first()
            if service is None:
                service = service_create(contract=contract, kind=kind, name=name,
                                         specialist=users["specialist"], engineer=users["engineer"],
                                         actor=actor, now=now)
                _bump(created, "services")
            # The orders app opens it when it hears of the new service after commit; opened here
            # as well (idempotent) so the demo has it whatever transaction this runs in.
            if (not InstallationOrder.objects.filter(service=service).exists()
                    and order_open_for_service(service_id=service.pk, created_at=now, actor=actor, now=now)):
                _bump(created, "installation_orders")
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


# --- A little of every workflow ---------------------------------------------------------------
#
# Every demo object below is found by its demo title (the 【演示】 marker) first and made only if
# missing, through the apps' services, with `now=` set to when each step "happened": the past
# ones carry a believable history (audit trail, clock met in time) and send nothing now except
# the complaint report's e-mail to the complainant (console/locmem mail in the demo).

DEMO = "【演示】"

COMPLAINT_RUNNING = DEMO + "晚高峰访问托管服务器丢包严重"
COMPLAINT_RESOLVED = DEMO + "企业邮箱连续收到大量垃圾邮件"
INCIDENT_CUSTOMER = DEMO + "托管服务器 HX-01 网络中断（客户交换机故障）"
INCIDENT_PROVIDER = DEMO + "托管服务器 HX-01 无法访问（机房上联端口故障）"
OPERATION_TITLE = DEMO + "更换托管服务器 HX-01 故障硬盘"
VISIT_APPROVED = DEMO + "更换机柜 A-12 内故障交换机并整理线缆"
VISIT_REQUESTED = DEMO + "新任运维负责人参观机房，了解托管环境"

# The monitored targets: the portal probing its own /healthz (stays "up" while `make run`
# serves), and a check of a closed local port that fails, so an emergency is declared about two
# minutes after the first start and its C4 notice goes to the demo contact through the logging
# and console gateways. A banner (TCP) check, not a device check: a device check pings first
# where the process may send ICMP, and 127.0.0.1 always answers a ping.
TARGET_SELF = "演示 · 门户自身健康检查 /healthz"
TARGET_FAILING = "演示 · JL-WEB 邮件应用 SMTP（故意失败：端口 9 无服务）"
SELF_SERVICE = "租用服务器 JL-WEB"
# A hosting service: its failing probe declares an emergency whose 15-minute notice (C4, a
# promise of the hosting agreement, not of the e-mail guarantee) the demo shows.
FAILING_SERVICE = "租用服务器 JL-WEB"
FAILING_PORT = 9
PROBE_INTERVAL = 60


def self_check_url() -> str:
    """The portal's own health endpoint on the port `make run` serves (PORT, default 8000)."""
    port = os.environ.get("PORT", "").strip()
    return f"http://127.0.0.1:{port if port.isdigit() else '8000'}/healthz"


def _past_anchor(now: datetime) -> datetime:
    """When the past demo events start: two days ago, or early this month (Asia/Shanghai) when
    two days ago is last month, so this month's downtime page shows the demo outages."""
    from incidents.downtime import TZ

    local = now.astimezone(TZ)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    anchor = now - timedelta(days=2)
    if anchor < month_start and now - month_start >= timedelta(hours=12):
        anchor = month_start + timedelta(minutes=30)
    return anchor


def _contact(code: str, name: str) -> Any:
    from customers.models import AuthorizedContact

    return AuthorizedContact.objects.get(customer__code=code, name=name)


def _demo_complaints(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                     now: datetime) -> None:
    from complaints.choices import ComplaintChannel, ComplaintSubject
    from complaints.models import Complaint
    from complaints.services import (
        complaint_accept,
        complaint_create,
        complaint_investigate,
        complaint_report_issue,
        complaint_resolve,
    )
    from customers.choices import Language

    specialist = users["specialist"]
    huaxia = services["托管服务器 HX-01"].customer
    if not Complaint.objects.filter(customer=huaxia, title=COMPLAINT_RUNNING).exists():
        # Phoned in on the complaint line forty minutes ago and accepted: C8 runs (24 hours).
        received = now - timedelta(minutes=40)
        c = complaint_create(
            customer=huaxia, actor=specialist, channel=ComplaintChannel.COMPLAINT_LINE,
            subject=ComplaintSubject.NETWORK, title=COMPLAINT_RUNNING,
            description="张伟来电反映：近三天每晚 20:00–22:00 从北京联通访问托管服务器 HX-01 丢包率约 "
                        "15%，网站访问明显变慢，白天正常。客户已自查服务器负载正常，要求尽快查明原因。",
            complainant_contact=_contact("demo-huaxia", "张伟"), received_at=received, now=received)
        complaint_accept(complaint_id=c.pk, actor=specialist, reason="投诉专线受理",
                         now=received + timedelta(minutes=10))
        _bump(created, "complaints")

    jinlong = services[FAILING_SERVICE].customer
    if not Complaint.objects.filter(customer=jinlong, title=COMPLAINT_RESOLVED).exists():
        # By e-mail two days ago; the first written report went out five hours later (C8 met)
        # and the complaint was resolved half an hour after that.
        t0 = _past_anchor(now)
        c = complaint_create(
            customer=jinlong, actor=specialist, channel=ComplaintChannel.EMAIL,
            subject=ComplaintSubject.SPAM, title=COMPLAINT_RESOLVED,
            description="金龙国际贸易 IT 主管赵磊来信：自本周一起，公司邮箱每天收到数百封仿冒"
                        "“海关通知”的垃圾邮件，部分带有压缩包附件，员工已有误点击，请求加强过滤。",
            complainant_name="赵磊", complainant_email="zhaolei@jinlong.example",
            complainant_phone="021-58880001", complainant_language=Language.ZH,
            received_at=t0, now=t0)
        complaint_accept(complaint_id=c.pk, actor=specialist, reason="邮件受理",
                         now=t0 + timedelta(minutes=15))
        # A spam complaint is handled as a spam case (seed 002 §4, E4): its response and its
        # result to the complainant both in time.
        from abuse.choices import StepCode
        from abuse.services import case_open_from_complaint, case_step_done

        case = case_open_from_complaint(complaint_id=c.pk, actor=specialist, now=t0 + timedelta(minutes=15))
        assert case is not None
        for code, after, note, value in (
                (StepCode.KEEP_EVIDENCE, timedelta(hours=1), "已保存三封样本邮件的完整信头和附件哈希。", ""),
                (StepCode.IDENTIFY_SOURCE, timedelta(hours=2), "发信来源为一批境外 IP。", "203.0.113.0/24"),
                (StepCode.BLOCK_SOURCE, timedelta(hours=4, minutes=50), "已在邮件网关阻断该网段。",
                 "203.0.113.0/24"),
                (StepCode.NOTIFY_RESULT, timedelta(hours=5), "处理结果已随书面报告告知赵磊。", "")):
            case_step_done(case_id=case.pk, code=code, actor=specialist, note=note, value=value,
                           now=t0 + after)
        complaint_investigate(complaint_id=c.pk, actor=specialist, reason="转技术支持核查邮件网关日志",
                              now=t0 + timedelta(hours=1))
        complaint_report_issue(
            complaint_id=c.pk, actor=specialist,
            findings="邮件网关日志显示，上述邮件来自一批新出现的境外发信 IP，发件域名仿冒海关，"
                     "当时的反垃圾规则库尚未收录，因此未被拦截。",
            actions_taken="已将相关发信 IP 和仿冒域名加入黑名单，启用附件沙箱检测，并为贵司邮箱开启"
                          "“可疑邮件标记”。之后六小时内未再收到同类邮件。",
            next_steps="继续观察一周，每日核查拦截日志；建议贵司提醒员工勿打开可疑附件。",
            expected_resolution="已解决，观察期一周。", now=t0 + timedelta(hours=5))
        complaint_resolve(complaint_id=c.pk, actor=specialist, reason="客户确认已不再收到同类垃圾邮件",
                          now=t0 + timedelta(hours=5, minutes=30))
        _bump(created, "complaints", 1)
        _bump(created, "reports")


def _demo_incidents(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                    now: datetime) -> None:
    from incidents.choices import Cause, OutageKind, ReportChannel
    from incidents.models import Incident
    from incidents.services import (
        incident_close,
        incident_report,
        incident_resolve,
        outage_classify,
        outage_record,
    )

    engineer = users["engineer"]
    service = services["托管服务器 HX-01"]
    anchor = _past_anchor(now)
    if not Incident.objects.filter(service=service, title=INCIDENT_CUSTOMER).exists():
        # Reported on the complaint line; a 35-minute network outage, classified afterwards as
        # caused by the customer's own switch (not counted, with the justification).
        t0 = anchor
        inc = incident_report(
            service=service, actor=engineer, title=INCIDENT_CUSTOMER,
            description="客户来电称 HX-01 无法 ping 通。工程师到机柜检查，发现客户自备交换机电源适配器损坏。",
            via=ReportChannel.COMPLAINT_LINE, reported_at=t0, now=t0)
        outage = outage_record(
            service=service, actor=engineer, started_at=t0 - timedelta(minutes=4),
            ended_at=t0 + timedelta(minutes=31), kind=OutageKind.NETWORK, incident=inc,
            evidence="上联端口 Gi1/0/12 链路 down/up 日志；客户交换机电源指示灯熄灭照片；"
                     "客户更换电源适配器后链路恢复。",
            now=t0 + timedelta(minutes=35))
        incident_resolve(incident_id=inc.pk, actor=engineer, reason="客户更换交换机电源后恢复",
                         now=t0 + timedelta(minutes=40))
        outage_classify(outage_id=outage.pk, cause=Cause.CUSTOMER_EQUIPMENT, actor=engineer,
                        note="中断由甲方自备交换机电源适配器损坏引起，乙方网络及上联端口工作正常"
                             "（第一条：任何甲方的电路或者设备引起的），不计入停机时间。",
                        now=t0 + timedelta(minutes=55))
        incident_close(incident_id=inc.pk, actor=engineer, reason="原因已认定，客户已确认",
                       now=t0 + timedelta(hours=2))
        _bump(created, "incidents")
    if not Incident.objects.filter(service=service, title=INCIDENT_PROVIDER).exists():
        # Reported by the customer in the portal; a 14-minute outage that was the provider's
        # fault: counted in this month's downtime (well under the 44 minutes of C1).
        t0 = anchor + min(timedelta(days=1), (now - anchor) / 2)
        inc = incident_report(
            service=service, actor=users["huaxia"], title=INCIDENT_PROVIDER,
            description="网站和 SSH 均无法访问，服务器本身运行正常。", now=t0)
        outage_record(
            service=service, actor=engineer, started_at=t0 - timedelta(minutes=6),
            ended_at=t0 + timedelta(minutes=8), kind=OutageKind.NETWORK, incident=inc,
            cause=Cause.PROVIDER, cause_note="机房汇聚交换机上联光模块故障，更换后恢复。",
            evidence="汇聚交换机 Te1/1/2 光功率告警及更换记录；监控中断时段截图。",
            now=t0 + timedelta(minutes=20))
        incident_resolve(incident_id=inc.pk, actor=engineer, reason="更换光模块后恢复",
                         now=t0 + timedelta(minutes=25))
        incident_close(incident_id=inc.pk, actor=engineer, reason="乙方原因，已计入当月停机时间",
                       now=t0 + timedelta(hours=1))
        _bump(created, "incidents")


def _demo_settlement(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                     now: datetime) -> None:
    """Last month for the long-standing customer: a 52-minute outage that was the provider's
    fault (C1 broken: that month's rent waived) and one caused by the customer's own equipment
    (excluded, with the justification), then the month closed as the scheduled job would."""
    from django.test.utils import override_settings

    from incidents.choices import Cause, OutageKind
    from incidents.downtime import TZ, month_bounds
    from incidents.models import Outage
    from incidents.services import outage_record
    from settlement.choices import CloseTrigger
    from settlement.models import MonthClose
    from settlement.services import month_close, month_previous, statements_stale
    from settlement.statements import statements_issue

    first = month_previous(now)
    service = services[SETTLEMENT_SERVICE]
    engineer = users["engineer"]
    start, end = month_bounds(first.year, first.month)
    if not Outage.objects.filter(service=service, started_at__gte=start, started_at__lt=end).exists():
        t0 = datetime(first.year, first.month, 12, 3, 10, tzinfo=TZ)
        outage_record(service=service, actor=engineer, started_at=t0, ended_at=t0 + timedelta(minutes=52),
                      kind=OutageKind.NETWORK, cause=Cause.PROVIDER,
                      cause_note="核心交换机板卡故障，切换备用板卡后恢复。",
                      evidence="核心交换机日志；监控中断时段截图。", now=now)
        t1 = datetime(first.year, first.month, 20, 15, 0, tzinfo=TZ)
        outage_record(service=service, actor=engineer, started_at=t1, ended_at=t1 + timedelta(minutes=18),
                      kind=OutageKind.NETWORK, cause=Cause.CUSTOMER_EQUIPMENT,
                      cause_note="甲方自备防火墙策略变更导致中断（第一条：甲方设备引起），不计入停机时间。",
                      evidence="甲方运维确认邮件。", now=now)
        # Both were reported by the customer at once (the 5-day clause would exclude them otherwise).
        for o in Outage.objects.filter(service=service, started_at__gte=start, started_at__lt=end,
                                       reported_at__isnull=True):
            o.reported_at = o.started_at + timedelta(minutes=5)
            o.save(update_fields=["reported_at"])
    # The statement is issued here, not queued: `make run` loads the demo before its broker runs.
    if not MonthClose.objects.filter(month=first).exists():
        with override_settings(SETTLEMENT_STATEMENTS="off"):
            month_close(year=first.year, month=first.month, trigger=CloseTrigger.SCHEDULE, now=now,
                        reason="演示数据：上月结算")
        _bump(created, "months_closed")
    stale = statements_stale(first=first)
    if stale:
        statements_issue(month=first, customer_ids=stale, now=now)
        _bump(created, "statements")


def _demo_targets(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                  now: datetime) -> None:
    from monitoring.choices import CheckKind
    from monitoring.models import Target
    from monitoring.services import target_save

    engineer = users["engineer"]
    service = services[SELF_SERVICE]
    url = self_check_url()
    target = Target.objects.filter(service=service, name=TARGET_SELF).first()
    if target is None:
        target_save(service=service, actor=engineer, now=now, data={
            "kind": CheckKind.WWW, "name": TARGET_SELF, "url": url, "expected_status": 200,
            "interval_seconds": PROBE_INTERVAL, "timeout_seconds": 5.0})
        _bump(created, "targets")
    elif target.url != url:
        # `make run` on another PORT: the portal still probes itself.
        target_save(service=service, target=target, actor=engineer, now=now, data={"url": url})
        _bump(created, "targets_updated")
    service = services[FAILING_SERVICE]
    if not Target.objects.filter(service=service, name=TARGET_FAILING).exists():
        target_save(service=service, actor=engineer, now=now, data={
            "kind": CheckKind.SMTP, "name": TARGET_FAILING, "host": "127.0.0.1", "port": FAILING_PORT,
            "interval_seconds": PROBE_INTERVAL, "timeout_seconds": 3.0})
        _bump(created, "targets")


def authorization_pdf(*, customer: str, contact: str, service: str, work: str, day: str) -> bytes:
    """A one-page signed written authorization 书面授权 (what the customer would scan)."""
    from django.utils.html import escape
    from weasyprint import HTML

    from reports.rendering import StaticOnlyFetcher

    html = f"""<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><style>
@page {{ size: A4; margin: 25mm; }}
body {{ font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 12pt; line-height: 1.8; }}
h1 {{ text-align: center; font-size: 18pt; }}
</style></head><body>
<h1>书面授权书</h1>
<p>致：SLA Portal 数据中心服务</p>
<p>兹授权贵方技术工程师对我方{escape(service)}进行以下操作：{escape(work)}</p>
<p>我方已备份相关数据，并同意操作期间服务短时中断。本授权仅限本次操作有效。</p>
<p>（演示数据 Demo）</p>
<p style="margin-top: 30mm">授权单位：{escape(customer)}（盖章）</p>
<p>指定授权人：{escape(contact)}（签字）</p>
<p>日期：{escape(day)}</p>
</body></html>"""
    return HTML(string=html, base_url="static:/", url_fetcher=StaticOnlyFetcher()).write_pdf()


def _demo_operation(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                    now: datetime) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents.downtime import TZ
    from operations.models import OperationRequest
    from operations.services import (
        authorization_upload_written,
        operation_create,
        operation_feedback_send,
        operation_start,
        operation_step_add,
    )

    service = services["托管服务器 HX-01"]
    if OperationRequest.objects.filter(service=service, title=OPERATION_TITLE).exists():
        return
    engineer = users["engineer"]
    contact = _contact("demo-huaxia", "张伟")
    t0 = now - timedelta(hours=3)
    work = "更换 RAID 阵列 2 号槽位故障硬盘（同型号 1.2TB SAS），更换后监控阵列重建。"
    op = operation_create(
        service=service, requested_by=contact, title=OPERATION_TITLE, actor=users["huaxia"],
        description="服务器管理口告警 2 号槽位硬盘预故障（Predictive Failure）。备件已寄到机房，"
                    "请工程师在业务低峰更换，数据已备份。" + work, now=t0)
    signed = t0 + timedelta(minutes=10)
    pdf = authorization_pdf(customer=service.customer.name, contact=contact.name,
                            service=service.name, work=work, day=f"{signed.astimezone(TZ):%Y-%m-%d}")
    authorization_upload_written(
        operation_id=op.pk, f=SimpleUploadedFile("书面授权-HX-01-换盘.pdf", pdf, "application/pdf"),
        contact=contact, actor=engineer, note="扫描件已核对签字与盖章", now=signed)
    operation_feedback_send(
        operation_id=op.pk, actor=engineer, now=signed + timedelta(minutes=12),
        body="已收到书面授权，计划今天下午开始更换 2 号槽位硬盘，开始前会再次电话确认。")
    started = now - timedelta(hours=2)
    operation_start(operation_id=op.pk, actor=engineer, now=started)
    operation_step_add(
        operation_id=op.pk, actor=engineer, done_at=started + timedelta(minutes=25),
        description="核对序列号后热插拔更换 2 号槽位硬盘，阵列卡已识别新盘并开始重建（预计 4 小时）。",
        now=started + timedelta(minutes=30))
    _bump(created, "operations")


def _demo_room() -> Any:
    """A machine room to book. Data centres and rooms are reference data kept in the admin
    (there is no workflow service for them): the first open room, or a demo one."""
    from access_requests.models import DataCentre, Room

    room = Room.objects.filter(active=True, data_centre__active=True).order_by("id").first()
    if room is None:
        dc, _new = DataCentre.objects.get_or_create(
            code="demo-bj", defaults={"name": "北京亦庄数据中心（演示）", "address": "北京市大兴区亦庄经济开发区"})
        room, _new = Room.objects.get_or_create(data_centre=dc, code="a3", defaults={"name": "A3 机房"})
    return room


def _demo_visits(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
                 now: datetime) -> None:
    from access_requests.choices import Activity, IdDocumentType
    from access_requests.models import Visit
    from access_requests.services import VisitorInput, visit_approve, visit_book
    from incidents.downtime import TZ

    def at(days: int, hour: int) -> datetime:
        day = now.astimezone(TZ).date() + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)

    huaxia = services["托管服务器 HX-01"].customer
    if not Visit.objects.filter(customer=huaxia, reason=VISIT_APPROVED).exists():
        visit = visit_book(
            customer=huaxia, actor=users["huaxia"], room=_demo_room(), reason=VISIT_APPROVED,
            activity=Activity.OPERATION, expected_entry_at=at(2, 10), expected_exit_at=at(2, 12),
            contact_name="张伟", contact_phone="13800138001",
            needs_tools=True, tools_detail="需借用机房推车一台、网线钳一把",
            visitors=[VisitorInput(name="张伟", id_type=IdDocumentType.RESIDENT_ID,
                                   id_number="110108198805120017", phone="13800138001"),
                      VisitorInput(name="刘洋", id_type=IdDocumentType.RESIDENT_ID,
                                   id_number="110105199203150036", phone="13600136006")],
            now=now)
        visit_approve(visit_id=visit.pk, actor=users["dcstaff"], escort=users["dcstaff"],
                      reason="已安排值班人员陪同", now=now)
        _bump(created, "visits")
    jinlong = services[FAILING_SERVICE].customer
    if not Visit.objects.filter(customer=jinlong, reason=VISIT_REQUESTED).exists():
        visit_book(
            customer=jinlong, actor=users["jinlong"], room=_demo_room(), reason=VISIT_REQUESTED,
            activity=Activity.TOUR, expected_entry_at=at(3, 14), expected_exit_at=at(3, 15),
            contact_name="王芳", contact_phone="13900139002",
            visitors=[VisitorInput(name="王芳", id_type=IdDocumentType.RESIDENT_ID,
                                   id_number="310115199006060028", phone="13900139002"),
                      VisitorInput(name="陈嘉豪", id_type=IdDocumentType.HK_MACAO_PERMIT,
                                   id_number="H60123456")],
            now=now)
        _bump(created, "visits")


# The e-mail guarantee's figures (seed 002 §1–§3): the provider's mail platform, the e-mail
# customer's domains on it, a month of delivery-log latency (hourly aggregates, as the log reader
# writes them), one short fault and one announced adjustment this month, and last month's
# billing figures, so that /mail/ shows real figures on the first start. Every month the demo
# touches stays within the targets (the closed month must show only the C1 breach above).
MAIL_PLATFORM = "企业邮件平台一号"
MAIL_SERVICE = "企业邮箱 jinlong.example"
MAIL_DOMAINS = ("jinlong.example", "jinlong-intl.example")
MAIL_FAULT = DEMO + "反垃圾网关进程异常重启"
MAIL_ADJUSTMENT = DEMO + "邮件存储扩容（已提前通知客户）"
MAIL_DAYS = 30


def _demo_latency_samples(*, domain_ids: list[int], now: datetime, first_of_month: datetime,
                          last_month_first: datetime) -> Any:
    """A month of believable mail latency into a LatencyAccumulator: office hours busy, nights
    quiet, most messages delivered in seconds, a few queued for minutes, a handful delayed at
    another provider (excluded by the agreement), one message over 1 hour this month and two
    last month (the most the promise allows)."""
    import random

    from incidents.downtime import TZ
    from mailservice.aggregates import LatencyAccumulator
    from mailservice.choices import Direction, LatencySource

    rnd = random.Random(20260211)  # the same demo on every machine
    acc = LatencyAccumulator()
    end = now.replace(minute=0, second=0, microsecond=0)
    hour = end - timedelta(days=MAIL_DAYS)

    def latency_ms(direction: str) -> int:
        r = rnd.random()
        if r < 0.90:
            return int(rnd.lognormvariate(7.6 if direction == Direction.SEND else 8.2, 0.6))  # ~2–4 s
        if r < 0.985:
            return rnd.randint(10_000, 60_000)
        if r < 0.998:
            return rnd.randint(60_000, 300_000)
        return rnd.randint(300_000, 1_800_000)

    while hour < end:
        local = hour.astimezone(TZ)
        busy = 9 <= local.hour < 18 and local.weekday() < 5
        evening = 7 <= local.hour < 23
        for i, domain_id in enumerate(domain_ids):
            scale = 1.0 if i == 0 else 0.3
            for direction, base in ((Direction.SEND, 36), (Direction.RECEIVE, 55)):
                n = int(base * scale * (1.0 if busy else 0.25 if evening else 0.05) * rnd.uniform(0.7, 1.3))
                for _ in range(n):
                    at = hour.timestamp() + rnd.uniform(0, 3599)
                    # Mail to or from another provider's system delayed there: excluded (seed 002 §2 a).
                    excluded = direction == Direction.SEND and rnd.random() < 0.004
                    acc.add(domain_id=domain_id, at=at, direction=direction, source=LatencySource.LOG,
                            latency_ms=latency_ms(direction), excluded=excluded)
        hour += timedelta(hours=1)
    slow = [first_of_month + timedelta(hours=10, minutes=20)]
    slow += [last_month_first + timedelta(days=9, hours=15), last_month_first + timedelta(days=20, hours=2)]
    for when in slow:
        if end - timedelta(days=MAIL_DAYS) <= when < end:
            acc.add(domain_id=domain_ids[0], at=when.timestamp(), direction=Direction.RECEIVE,
                    source=LatencySource.LOG, latency_ms=rnd.randint(3_700_000, 5_400_000))
    return acc


def _demo_mail(created: dict[str, int], *, services: dict[str, Any], users: dict[str, Any],
               now: datetime) -> None:
    """The mail platform, the e-mail customer's domains, a month of latency aggregates, a fault,
    an adjustment and last month's billing figures, each made once."""
    from incidents.downtime import TZ
    from mailservice.choices import PlatformEventKind
    from mailservice.models import BillingErrorFigure, LatencyHourly, MailDomain, MailPlatform, PlatformEvent
    from mailservice.services import (
        billing_figure_save,
        mail_domain_save,
        mail_platform_save,
        platform_event_save,
    )
    from settlement.services import month_previous

    engineer, manager = users["engineer"], users["manager"]
    service = services[MAIL_SERVICE]
    platform = MailPlatform.objects.filter(name=MAIL_PLATFORM).first()
    if platform is None:
        platform = mail_platform_save(actor=engineer, now=now, data={
            "name": MAIL_PLATFORM, "description": "北京亦庄机房邮件集群：MX 网关 ×2、反垃圾网关 ×2、"
                                                 "Postfix 投递 ×4、Dovecot 存储 ×4。"})
        _bump(created, "mail_platforms")
    domain_ids = []
    for name in MAIL_DOMAINS:
        domain = MailDomain.objects.filter(domain=name).first()
        if domain is None:
            domain = mail_domain_save(actor=engineer, service=service, now=now,
                                      data={"domain": name, "platform": platform})
            _bump(created, "mail_domains")
        domain_ids.append(domain.pk)
    local = now.astimezone(TZ)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    previous = month_previous(now)
    last_month_start = datetime(previous.year, previous.month, 1, tzinfo=TZ)
    if not LatencyHourly.objects.filter(domain_id__in=domain_ids).exists():
        acc = _demo_latency_samples(domain_ids=domain_ids, now=now, first_of_month=month_start,
                                    last_month_first=last_month_start)
        _bump(created, "latency_hours", acc.flush())
    anchor = _past_anchor(now)
    if not PlatformEvent.objects.filter(platform=platform, title=MAIL_FAULT).exists():
        # Three minutes: within the monthly fault total and the 99.99 % availability (4.3 minutes
        # of a 30-day month), and one fault day of the year.
        t0 = anchor + timedelta(hours=2, minutes=7)
        platform_event_save(actor=engineer, now=now, data={
            "platform": platform, "kind": PlatformEventKind.FAULT, "title": MAIL_FAULT,
            "started_at": t0, "ended_at": t0 + timedelta(minutes=3),
            "note": "反垃圾网关 2 号节点内存耗尽，进程被系统终止后自动拉起；期间入站邮件由 1 号节点接收，"
                    "部分外域来信重试延迟约 3 分钟。"})
        _bump(created, "mail_events")
    if not PlatformEvent.objects.filter(platform=platform, title=MAIL_ADJUSTMENT).exists():
        # An announced night-time maintenance window of 40 minutes (the adjustment total allows 100).
        day = max(anchor.astimezone(TZ), month_start)
        t0 = day.replace(hour=1, minute=0, second=0, microsecond=0)
        if t0 + timedelta(minutes=40) > now:
            t0 = now - timedelta(minutes=50)
        platform_event_save(actor=engineer, now=now, data={
            "platform": platform, "kind": PlatformEventKind.ADJUSTMENT, "title": MAIL_ADJUSTMENT,
            "started_at": t0, "ended_at": t0 + timedelta(minutes=40),
            "note": "存储集群增加两块 4TB 磁盘并在线扩容，已于三天前邮件通知全部企业邮箱客户。"})
        _bump(created, "mail_events")
    if not BillingErrorFigure.objects.filter(month=previous).exists():
        billing_figure_save(actor=manager, month=previous, customers_billed=1286, customers_with_error=0,
                            note="演示数据：上月账单核对无差错。", now=now)
        _bump(created, "billing_figures")


WORKFLOWS = [
    ("complaints", _demo_complaints),
    ("incidents", _demo_incidents),
    ("monitoring", _demo_targets),
    ("operations", _demo_operation),
    ("visits", _demo_visits),
    # Before the month close below, so that the closed month judges the e-mail figures too.
    ("mail", _demo_mail),
    ("settlement", _demo_settlement),
]
