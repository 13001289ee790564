"""/api/status/: the live status page's data. Shape, scoping (another customer's target ids never
appear; naming another customer is a 404), anonymous 401, open incidents only, and the planned
maintenance read from the data centre's maintenance windows and the mail platforms' adjustments."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import FacilityEvent, FacilityEventScope, Incident
from mailservice.models import MailDomain, MailPlatform, PlatformEvent
from monitoring.models import ProbeDaily, Target
from tests import factories as f

from .test_status_page import service_a, target_a, target_c, zh_catalogue  # noqa: F401 (fixtures)

TZ = ZoneInfo("Asia/Shanghai")


def api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


def _ids(body: dict) -> set[int]:  # type: ignore[type-arg]
    return {t["id"] for t in body["targets"]}


def test_anonymous_gets_401(db):
    r = APIClient().get("/api/status/")
    assert r.status_code == 401


def test_shape_of_the_status(zh_catalogue, alice, customer_a, service_a, target_a):  # noqa: F811
    now = timezone.now()
    Target.objects.filter(pk=target_a.pk).update(state="down", last_probe_at=now, last_method="tcp",
                                                 last_detail="ConnectionRefusedError: [Errno 111] Connection refused")
    r = api(alice).get("/api/status/")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"generated_at", "customer", "page", "counts", "targets", "incidents", "maintenance"}
    assert datetime.fromisoformat(body["generated_at"]).utcoffset() == timedelta(hours=8)
    assert body["customer"] == {"id": customer_a.pk, "name": customer_a.name} and body["page"] is None
    assert body["counts"] == {"unknown": 0, "up": 0, "failing": 0, "down": 1}
    [t] = body["targets"]
    assert set(t) == {"id", "name", "customer", "service", "kind", "kind_display", "state", "state_display",
                      "last_probe_at", "last_ok_at", "last_result_ok", "last_result", "last_detail", "uptime_90d"}
    assert t["uptime_90d"] is None  # only with ?history=1
    assert (t["id"], t["state"], t["last_result_ok"]) == (target_a.pk, "down", False)
    assert t["service"] == {"id": service_a.pk, "name": service_a.name}
    assert t["state_display"] == "中断（已宣布紧急情况）"  # Chinese first: the default language
    assert t["last_result"] == "TCP 连接：连接被拒绝"
    assert t["last_detail"].startswith("ConnectionRefusedError")


def test_history_adds_ninety_days_and_the_uptime(alice, target_a):  # noqa: F811
    today = timezone.localtime(timezone.now(), TZ).date()
    ProbeDaily.objects.create(target=target_a, day=today - timedelta(days=1), ok_count=99, fail_count=1)
    [t] = api(alice).get("/api/status/?history=1").json()["targets"]
    assert len(t["days"]) == 90 and t["days"][-1]["day"] == today.isoformat()
    assert t["days"][-2] == {"day": (today - timedelta(days=1)).isoformat(), "ok": 99, "failed": 1,
                             "outage_minutes": 0, "uptime": "99.00"}
    assert t["days"][0]["uptime"] is None
    assert t["uptime_90d"] == "99.00"


def test_scoping(alice, charlie, engineer, target_a, target_c):  # noqa: F811
    assert _ids(api(alice).get("/api/status/").json()) == {target_a.pk}
    assert _ids(api(charlie).get("/api/status/").json()) == {target_c.pk}
    assert api(alice).get(f"/api/status/?customer={target_c.customer_id}").status_code == 404
    body = api(engineer).get("/api/status/").json()
    assert _ids(body) == {target_a.pk, target_c.pk} and body["customer"] is None
    assert body["page"] == {"number": 1, "pages": 1, "count": 2}
    assert _ids(api(engineer).get(f"/api/status/?customer={target_c.customer_id}").json()) == {target_c.pk}
    assert api(engineer).get("/api/status/?customer=x").status_code == 400


def test_open_incidents_of_the_customer_only(alice, customer_a, service_a, target_a, target_c):  # noqa: F811
    now = timezone.now()
    open_one = Incident.objects.create(customer=customer_a, service=service_a, target=target_a, source="monitor",
                                       title="主机不可达", detected_at=now - timedelta(minutes=10))
    closed = Incident.objects.create(customer=customer_a, service=service_a, source="staff", title="早已解决",
                                     detected_at=now - timedelta(days=3))
    Incident.objects.filter(pk=closed.pk).update(state="closed")
    theirs = Incident.objects.create(customer=target_c.customer, service=target_c.service, source="monitor",
                                     title="丙的故障", detected_at=now)
    body = api(alice).get("/api/status/").json()
    assert [i["id"] for i in body["incidents"]] == [open_one.pk]
    [i] = body["incidents"]
    assert i["state"] == "detected" and i["target"] == target_a.pk and i["service"]["id"] == service_a.pk
    assert datetime.fromisoformat(i["since"]) == open_one.detected_at
    assert theirs.pk not in [x["id"] for x in api(alice).get("/api/status/").json()["incidents"]]


def test_planned_maintenance_from_facility_events_and_mail_platform_adjustments(
        zh_catalogue, alice, customer_a, service_a, target_a):  # noqa: F811
    now = timezone.now()
    later = now + timedelta(days=2)

    def window(title: str, room: str, start: datetime, end: datetime | None, kind: str = "maintenance") -> None:
        ev = FacilityEvent.objects.create(title=title, kind=kind, started_at=start, ended_at=end, recorded_at=now)
        FacilityEventScope.objects.create(event=ev, scope="room", value=room)

    window("A101 机房空调检修", "A101", later, later + timedelta(hours=2))
    window("A101 正在进行的维护", "A101", now - timedelta(hours=1), None)
    window("已结束的维护", "A101", now - timedelta(days=3), now - timedelta(days=2))
    window("B202 机房检修", "B202", later, later + timedelta(hours=2))
    window("A101 停电", "A101", now - timedelta(hours=1), None, kind="power_cut")

    mail = f.ServiceFactory(contract=service_a.contract, kind="email", name="甲的企业邮箱")
    platform = MailPlatform.objects.create(name="邮件平台一")
    MailDomain.objects.create(domain="alpha.example.cn", service=mail, platform=platform)
    PlatformEvent.objects.create(platform=platform, kind="adjustment", title="邮件系统升级", recorded_at=now,
                                 started_at=later + timedelta(hours=5), ended_at=later + timedelta(hours=6))
    PlatformEvent.objects.create(platform=platform, kind="fault", title="邮件故障", recorded_at=now,
                                 started_at=later, ended_at=None)
    other = MailPlatform.objects.create(name="邮件平台二")
    PlatformEvent.objects.create(platform=other, kind="adjustment", title="别人的平台调整", recorded_at=now,
                                 started_at=later, ended_at=later + timedelta(hours=1))

    body = api(alice).get("/api/status/").json()
    got = [(m["kind"], m["title"], m["ongoing"], m["services"]) for m in body["maintenance"]]
    assert got == [
        ("facility", "A101 正在进行的维护", True, ["甲的托管服务器"]),
        ("facility", "A101 机房空调检修", False, ["甲的托管服务器"]),
        ("mail_platform", "邮件系统升级", False, ["甲的企业邮箱"]),
    ]
    assert body["maintenance"][0]["ends_at"] is None
    assert body["maintenance"][2]["kind_display"] == "邮件系统调整"

    # Another customer sees none of it.
    charlie = f.CustomerUserFactory(customer__name="丁公司").user
    assert api(charlie).get("/api/status/").json()["maintenance"] == []
