from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
SECRET = "mrtg-secret"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def service_a(customer_a, engineer):
    contract = f.ContractFactory(customer=customer_a)
    return f.ServiceFactory(contract=contract, engineer=engineer)


@pytest.fixture
def contact_a(customer_a):
    return f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test",
                                      mrtg_username="alpha-mrtg", secret=SECRET)


@pytest.fixture
def operation(service_a, contact_a, engineer):
    from operations.services import operation_create

    return operation_create(service=service_a, requested_by=contact_a, title="重启数据库服务器",
                            description="请重启 db01 并检查 RAID 状态。", actor=engineer, now=T0)


def upload(data: bytes = PDF, name: str = "授权书.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/pdf")
