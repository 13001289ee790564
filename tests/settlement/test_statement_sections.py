"""Other apps add sections to the monthly statement through settlement.statement_sections: a
section with rows is printed (web page and PDF) after the services; a builder with nothing to say
adds nothing, so statements issued before stay as they were."""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from settlement import statement_sections
from settlement.statements import statement_content, statement_issue
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
FEB = date(2026, 2, 1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


@pytest.fixture
def section():  # type: ignore[no-untyped-def]
    calls: list[dict] = []

    def build(**kw):  # type: ignore[no-untyped-def]
        calls.append(kw)
        if kw["customer"].code == "quiet":
            return None
        return {"title": "反垃圾邮件处理", "columns": ["案件", "结果"], "rows": [["SPAM-0001", "已阻断来源"]],
                "note": "按保证书第四条处理。"}

    statement_sections.register_section("zz-test", build)
    yield calls
    statement_sections._SECTIONS.pop("zz-test")


def test_a_registered_section_is_printed_in_the_pdf(section, customer_a):  # type: ignore[no-untyped-def]
    service_a = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a))
    content = statement_content(customer=customer_a, first=FEB, now=NOW)
    assert content["sections"] == [{"key": "zz-test", "title": "反垃圾邮件处理", "columns": ["案件", "结果"],
                                    "rows": [["SPAM-0001", "已阻断来源"]], "note": "按保证书第四条处理。"}]
    assert section[0]["first"] == FEB and section[0]["services"] == [service_a]
    report = statement_issue(customer_id=customer_a.pk, first=FEB, now=NOW)
    text = subprocess.run(["pdftotext", "-layout", report.file.path, "-"], check=True, capture_output=True,
                          text=True).stdout
    for expected in ("反垃圾邮件处理", "SPAM-0001", "已阻断来源", "按保证书第四条处理。"):
        assert expected in text, expected


def test_a_section_with_nothing_to_say_adds_no_key(section, customer_a):  # type: ignore[no-untyped-def]
    customer_a.code = "quiet"
    customer_a.save()
    assert "sections" not in statement_content(customer=customer_a, first=FEB, now=NOW)
