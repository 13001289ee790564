"""Chinese where it matters (issue 14): no msgid shared by two meanings, Chinese admin headers,
the downtime page's durations and availability, the notification log's outcomes and links, the
monitoring list's translated results and state colours. Strings added by this change are in
locale/pending/zh.po until merged into the catalogue."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone, translation

from access_requests.forms import ScheduleForm, VisitFilterForm
from audit.services import audit_record
from incidents.choices import OutageKind
from incidents.models import Outage
from monitoring.models import Target
from monitoring.services import target_save
from notifications.channels.email import ACCEPTED
from notifications.models import Notification
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_visit_date_filters_are_dates_not_audit_states():
    with translation.override("zh-hans"):
        for form in (VisitFilterForm(), ScheduleForm()):
            labels = {str(field.label) for field in form.fields.values()}
            assert not labels & {"原状态", "新状态"}, labels
        assert str(VisitFilterForm().fields["date_from"].label) == "起始日期"
        assert str(VisitFilterForm().fields["date_to"].label) == "截止日期"


def test_an_operation_started_is_not_a_clock_started(engineer, customer_a):
    from operations.services import operation_create

    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), engineer=engineer)
    contact = f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test")
    op = operation_create(service=service, requested_by=contact, title="重启数据库服务器",
                          description="请重启 db01。", actor=engineer, now=timezone.now())
    audit_record(obj=op, action="start", actor=engineer, from_state="authorized", to_state="in_progress",
                 reason="", now=timezone.now())
    body = web(engineer).get(f"/operations/{op.pk}/").content.decode()
    assert "已开始操作" in body and "开始计时" not in body


def test_admin_app_headers_are_chinese():
    with translation.override("zh-hans"):
        assert str(apps.get_app_config("monitoring").verbose_name) == "监控"
        assert str(apps.get_app_config("operations").verbose_name) == "技术操作"


def test_downtime_reads_as_hours_and_minutes_with_availability(alice, customer_a, dc_staff):
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a))
    start = datetime(2026, 3, 10, 8, 0, tzinfo=TZ)
    Outage.objects.create(service=service, kind=OutageKind.NETWORK, started_at=start,
                          ended_at=start + timedelta(minutes=104), evidence="probe", created_at=start,
                          reported_at=start, cause="provider")
    body = web(alice).get(f"/incidents/services/{service.pk}/downtime/?month=2026-03").content.decode()
    assert "1 小时 44 分钟" in body and "104:00" not in body
    # 104 min of 31 days: 100 − 6240/2678400 × 100 = 99.7670 %, rounded down.
    assert "99.7670 %" in body
    assert "<td>&lt; 44 分钟</td>" in body and "lt 44" not in body


def _note(**kw):  # type: ignore[no-untyped-def]
    defaults = {"channel": "email", "address": "a@b.test", "kind": "clock_breach", "subject": "主题",
                "body": "b", "idempotency_key": "clock:1:breach:key-xyz", "created_at": timezone.now()}
    return Notification.objects.create(**{**defaults, **kw})


def test_notification_log_translates_outcomes_hides_keys_and_links(manager, customer_a, engineer):
    from operations.services import operation_create

    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), engineer=engineer)
    contact = f.AuthorizedContactFactory(customer=customer_a, email="wang@alpha.test")
    op = operation_create(service=service, requested_by=contact, title="重启", description="d",
                          actor=engineer, now=timezone.now())
    _note(status="sent", detail=ACCEPTED, related=op, idempotency_key="op:secret-key-1")
    _note(status="failed", detail="ConnectionRefusedError: [Errno 111] Connection refused",
          idempotency_key="op:secret-key-2")
    body = web(manager).get("/notifications/").content.decode()
    assert "已被邮件服务器接收" in body and "accepted by the mail server" not in body
    assert "secret-key" not in body
    assert "ConnectionRefusedError" not in body and "Errno" not in body
    assert f'href="/operations/{op.pk}/"' in body and op.number in body


def test_monitoring_list_shows_translated_results_and_state_colours(engineer, customer_a):
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a))
    down = target_save(service=service, data={"kind": "device", "host": "10.0.0.1", "port": 22}, actor=engineer)
    up = target_save(service=service, data={"kind": "device", "host": "10.0.0.2", "port": 22}, actor=engineer)
    now = timezone.now()
    Target.objects.filter(pk=down.pk).update(state="down", last_probe_at=now, last_ok_at=now - timedelta(hours=1),
                                             last_detail="ConnectionRefusedError: [Errno 111] Connection refused")
    Target.objects.filter(pk=up.pk).update(state="up", last_probe_at=now, last_ok_at=now,
                                           last_detail="connected to port 22")
    for url in ("/monitoring/", f"/monitoring/{down.pk}/"):
        body = web(engineer).get(url).content.decode()
        assert "ConnectionRefusedError" not in body and "Errno" not in body, url
        assert "pill state-down" in body, url
    body = web(engineer).get("/monitoring/").content.decode()
    assert "pill state-up" in body and "css/status.css" in body
