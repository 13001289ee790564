from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def named_staff(specialist, engineer):
    specialist.first_name, specialist.last_name = "陈丽", ""
    specialist.save(update_fields=["first_name", "last_name"])
    engineer.first_name, engineer.last_name = "", ""  # no full name: the username signs
    engineer.save(update_fields=["first_name", "last_name"])
    return specialist, engineer


@pytest.fixture
def service_a(customer_a, specialist, engineer):
    contract = f.ContractFactory(customer=customer_a)
    return f.ServiceFactory(contract=contract, specialist=specialist, engineer=engineer, name="托管服务器 HX-01")


@pytest.fixture
def contact_a(customer_a):
    return f.AuthorizedContactFactory(customer=customer_a, name="张伟", email="zhang@alpha.test",
                                      mrtg_username="alpha-mrtg", secret="mrtg-secret")


@pytest.fixture
def accepted_complaint(service_a, contact_a, specialist):
    from complaints.services import complaint_accept, complaint_create

    c = complaint_create(
        customer=contact_a.customer, actor=specialist, channel="complaint_line", subject="network",
        title="机柜 A-12 上联端口频繁抖动", description="客户来电：今天上午三次断网，每次约两分钟，"
        "影响贵司官网和邮件收发。请尽快查明原因并书面答复。", complainant_contact=contact_a,
        received_at=T0, now=T0)
    complaint_accept(complaint_id=c.pk, actor=specialist, now=T0 + timedelta(minutes=10))
    return c


@pytest.fixture
def finished_operation(service_a, contact_a, engineer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from operations import services

    op = services.operation_create(service=service_a, requested_by=contact_a, title="重启数据库服务器",
                                   description="请重启 db01 并检查 RAID 状态。", actor=engineer, now=T0)
    services.authorization_upload_written(
        operation_id=op.pk, f=SimpleUploadedFile("授权书.pdf", PDF, content_type="application/pdf"),
        contact=contact_a, actor=engineer, now=T0)
    services.operation_start(operation_id=op.pk, actor=engineer, now=T0 + timedelta(minutes=5))
    for i, step in enumerate(("通知客户即将停机", "停止数据库服务并备份配置", "重启 db01",
                              "检查 RAID 状态：两块磁盘均正常", "启动数据库服务并验证业务")):
        services.operation_step_add(operation_id=op.pk, description=step, actor=engineer,
                                    done_at=T0 + timedelta(minutes=6 + i),
                                    now=T0 + timedelta(minutes=7 + i))
    services.operation_finish(operation_id=op.pk, result="服务器已重启，RAID 正常，业务恢复。",
                              actor=engineer, now=T0 + timedelta(minutes=30))
    return op
