"""Written-report PDFs as the reader gets them: a typical complaint or operation report is one
page; a long one never leaves the legal footer alone on its last page; the issuer's signature
block (name, role, date) is printed; the visit log keeps each state label on one line. And the
issuing pages show a preview that writes nothing before the report is issued."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEntry
from complaints.choices import ComplaintState
from complaints.models import Complaint
from complaints.services import complaint_report_issue
from notifications.models import Notification
from operations import services as op_services
from operations.choices import OperationState
from operations.models import OperationRequest
from reports.models import WrittenReport
from reports.rendering import render_pdf

from .conftest import T0

pytestmark = pytest.mark.django_db

COMPLAINT_FOOTER = "本报告依据《网络资源服务及相关客户服务品质协议》第八条出具"
OPERATION_FOOTER = "乙方不承担由于甲方授权操作而对甲方系统所产生的任何影响及其责任"

DEMO_FINDINGS = ("邮件网关日志显示，上述邮件来自一批新出现的境外发信 IP，发件域名仿冒海关，"
                 "当时的反垃圾规则库尚未收录，因此未被拦截。")
DEMO_ACTIONS = ("已将相关发信 IP 和仿冒域名加入黑名单，启用附件沙箱检测，并为贵司邮箱开启"
                "“可疑邮件标记”。之后六小时内未再收到同类邮件。")
DEMO_NEXT = "继续观察一周，每日核查拦截日志；建议贵司提醒员工勿打开可疑附件。"


def _pages(path: str | Path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


def _text(path: str | Path, page: int | None = None, *, layout: bool = False) -> str:
    args = ["pdftotext"]
    if layout:
        args.append("-layout")
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def _squash(text: str) -> str:
    """pdftotext breaks lines where the PDF does; compare without whitespace."""
    return "".join(text.split())


def _issue_complaint_report(complaint, actor, **fields):
    return complaint_report_issue(
        complaint_id=complaint.pk, actor=actor, findings=fields.get("findings", DEMO_FINDINGS),
        actions_taken=fields.get("actions_taken", DEMO_ACTIONS), next_steps=fields.get("next_steps", DEMO_NEXT),
        expected_resolution=fields.get("expected_resolution", "已解决，观察期一周。"),
        now=T0 + timedelta(hours=5))


# --- One page, footer never alone, signature block -------------------------------------------

def test_demo_like_complaint_report_is_one_page_with_signature(accepted_complaint, named_staff):
    specialist, _engineer = named_staff
    report = _issue_complaint_report(accepted_complaint, specialist)
    assert _pages(report.file.path) == 1
    text = _squash(_text(report.file.path))
    assert COMPLAINT_FOOTER in text
    # The signature block: the issuer's full name, their role label and the issue date.
    assert "出具人" in text and "陈丽" in text and "客户服务专员" in text
    assert "出具日期：2026-03-02" in text
    assert "签字" in text


def test_demo_like_operation_report_is_one_page_with_signature(finished_operation, named_staff):
    _specialist, engineer = named_staff
    report = op_services.operation_report_issue(operation_id=finished_operation.pk, actor=engineer,
                                                remarks="客户已确认。", now=T0 + timedelta(hours=2))
    assert _pages(report.file.path) == 1
    text = _squash(_text(report.file.path))
    assert OPERATION_FOOTER in text
    # No full name: the username signs, with the engineer's role label.
    assert "出具人" in text and engineer.username in text and "技术工程师" in text
    assert "出具日期：2026-03-02" in text


@pytest.mark.parametrize("long_field", ["findings", "actions_taken", "next_steps", "expected_resolution"])
def test_long_complaint_report_never_leaves_the_footer_alone(accepted_complaint, specialist, long_field):
    para = "经排查，上联端口的光模块老化导致误码率升高，已安排更换并持续观察线路质量。"
    body = "\n".join(f"{i}. {para}" for i in range(1, 46))
    if long_field == "expected_resolution":
        body = body[:200]  # the form's limit
    report = _issue_complaint_report(accepted_complaint, specialist, **{long_field: body})
    pages = _pages(report.file.path)
    if long_field != "expected_resolution":
        assert pages >= 2
    last = _squash(_text(report.file.path, pages))
    assert COMPLAINT_FOOTER in last
    # The last page carries more than the footer and its page number.
    rest = last.replace(COMPLAINT_FOOTER, "").replace("。", "").replace(f"{pages}/{pages}", "")
    assert len(rest) > 40, last
    assert "出具人" in last  # the signature block stays with the footer


def test_long_operation_report_never_leaves_the_footer_alone(finished_operation, engineer):
    remarks = "\n".join(f"{i}. 操作后复查：数据库主从同步正常，业务访问延迟恢复到正常水平。" for i in range(1, 40))
    report = op_services.operation_report_issue(operation_id=finished_operation.pk, actor=engineer,
                                                remarks=remarks, now=T0 + timedelta(hours=2))
    pages = _pages(report.file.path)
    assert pages >= 2
    last = _squash(_text(report.file.path, pages))
    assert OPERATION_FOOTER in last
    rest = last.replace(_squash(OPERATION_FOOTER), "")
    assert "出具人" in rest and len(rest) > 80, last


def test_english_complaint_report_signs_in_both_languages(accepted_complaint, named_staff):
    specialist, _engineer = named_staff
    Complaint.objects.filter(pk=accepted_complaint.pk).update(complainant_language="en")
    report = _issue_complaint_report(accepted_complaint, specialist)
    text = _text(report.file.path)
    assert "Issued by" in text and "Customer-service specialist" in text and "Signature" in text
    assert _pages(report.file.path) <= 2


# --- Visit log --------------------------------------------------------------------------------

def test_visit_log_state_labels_are_not_broken(tmp_path):
    from access_requests.choices import VisitState
    from access_requests.exports import columns

    with translation.override("zh-hans"):
        cols = columns()
        states = [str(label) for _v, label in VisitState.choices]
    rows = []
    for i, state in enumerate(states * 3):
        row = {
            "number": f"V-2026-{i:05d}", "customer": "华夏网络科技有限公司", "room": "一号机房 3F-A",
            "state": state, "visitor": "李四", "id_type": "居民身份证", "id_number": "1101**********1234",
            "pass_number": f"P-{i:04d}", "escort": "dcstaff", "expected_entry": "2026-03-02 09:00",
            "expected_exit": "2026-03-02 11:30", "entered": "2026-03-02 09:05", "exited": "2026-03-02 11:20",
            "activity": "操作", "reason": "更换故障硬盘并检查 RAID 阵列状态", "work_done": "已更换 2 号盘，阵列重建完成",
        }
        rows.append([row[k] for k, _label in cols])
    pdf = render_pdf(template="reports/visit_log.html", language="zh-hans", context={
        "rows": rows, "columns": [str(label) for _k, label in cols], "column_keys": [k for k, _label in cols], "date_from": None, "date_to": None,
        "generated_at": T0, "font_family": '"Noto Sans CJK SC", sans-serif', "provider": {"name": "SLA Portal"},
    })
    path = tmp_path / "log.pdf"
    path.write_bytes(pdf)
    lines = _text(path, layout=True).splitlines()
    for state in states:
        assert any(state in line for line in lines), f"state {state!r} is broken across lines"
    # Timestamps break only between the date and the time; ID numbers and ID types stay whole.
    assert any("2026-03-02" in line for line in lines) and any("09:05" in line for line in lines)
    assert any("居民身份证" in line for line in lines)
    assert any("1101**********1234" in line for line in lines)


# --- Preview writes nothing; issuing still works ---------------------------------------------

def _counts() -> tuple[int, int, int]:
    return WrittenReport.objects.count(), AuditEntry.objects.count(), Notification.objects.count()


def _login(client, user):
    client.force_login(user)
    return client


def test_complaint_report_preview_writes_nothing_then_issues(client, accepted_complaint, specialist, tmp_path):
    _login(client, specialist)
    url = reverse("complaints:report_create", args=[accepted_complaint.pk])
    fields = {"findings": DEMO_FINDINGS, "actions_taken": DEMO_ACTIONS, "next_steps": DEMO_NEXT,
              "expected_resolution": "3天内"}
    form = client.get(url).content.decode()
    assert 'name="action" value="preview"' in form
    before = _counts()
    media_before = sorted(p for p in tmp_path.rglob("*") if p.is_file())

    r = client.post(url, {**fields, "action": "preview"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "report-sheet" in page and DEMO_FINDINGS in page and "投诉处理情况报告" in page
    assert "出具人" in page  # the signature block is previewed too
    assert 'value="confirm"' in page and 'value="edit"' in page
    # The fields travel as hidden inputs to the confirm and edit buttons.
    assert 'type="hidden" name="findings"' in page
    assert _counts() == before
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == media_before
    assert Complaint.objects.get(pk=accepted_complaint.pk).state == ComplaintState.ACCEPTED

    # 修改: back to the form, the fields kept, still nothing written.
    r = client.post(url, {**fields, "action": "edit"})
    assert r.status_code == 200 and "report-sheet" not in r.content.decode()
    assert r.context["form"]["findings"].value() == DEMO_FINDINGS
    assert _counts() == before

    # A preview with a missing field is a form error, not a preview.
    r = client.post(url, {**fields, "findings": "", "action": "preview"})
    assert r.status_code == 400 and "report-sheet" not in r.content.decode()

    # 确认出具: issued exactly as before (report, audit row, e-mail to the complainant).
    r = client.post(url, {**fields, "action": "confirm"})
    assert r.status_code == 302
    report = WrittenReport.objects.get()
    assert report.content["findings"] == DEMO_FINDINGS
    assert Complaint.objects.get(pk=accepted_complaint.pk).state == ComplaintState.REPORT_ISSUED
    assert AuditEntry.objects.count() > before[1]


def test_complaint_report_action_issue_issues(client, accepted_complaint, specialist):
    _login(client, specialist)
    r = client.post(reverse("complaints:report_create", args=[accepted_complaint.pk]),
                    {"findings": "f", "actions_taken": "a", "action": "issue"})
    assert r.status_code == 302 and WrittenReport.objects.count() == 1


def test_complaint_report_preview_in_english(client, accepted_complaint, specialist):
    _login(client, specialist)
    with translation.override("en"):
        r = client.post(reverse("complaints:report_create", args=[accepted_complaint.pk]),
                        {"findings": "f", "actions_taken": "a", "action": "preview"},
                        HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    assert not WrittenReport.objects.exists()


def test_complaint_preview_of_another_customers_complaint_is_404(client, accepted_complaint, charlie):
    _login(client, charlie)
    r = client.post(reverse("complaints:report_create", args=[accepted_complaint.pk]),
                    {"findings": "f", "actions_taken": "a", "action": "preview"})
    assert r.status_code == 404


def test_operation_report_preview_writes_nothing_then_issues(client, finished_operation, engineer, named_staff):
    _login(client, engineer)
    url = reverse("operations:report", args=[finished_operation.pk])
    detail = client.get(reverse("operations:detail", args=[finished_operation.pk])).content.decode()
    assert 'name="action" value="preview"' in detail
    before = _counts()

    r = client.post(url, {"remarks": "客户已确认。", "action": "preview"})
    assert r.status_code == 200
    page = r.content.decode()
    assert "report-sheet" in page and "操作情况报告" in page and "客户已确认。" in page
    assert "技术工程师" in page
    assert _counts() == before
    assert OperationRequest.objects.get(pk=finished_operation.pk).state == OperationState.FINISHED

    r = client.post(url, {"remarks": "客户已确认。", "action": "edit"})
    assert r.status_code == 200
    assert r.context["forms"]["report"]["remarks"].value() == "客户已确认。"
    assert _counts() == before

    r = client.post(url, {"remarks": "客户已确认。", "action": "confirm"})
    assert r.status_code == 302
    report = WrittenReport.objects.get()
    assert report.content["remarks"] == "客户已确认。"
    assert OperationRequest.objects.get(pk=finished_operation.pk).state == OperationState.REPORTED
    assert Notification.objects.filter(kind="operation_report").count() == 1


def test_operation_report_preview_of_another_customers_operation_is_404(client, finished_operation, charlie):
    _login(client, charlie)
    r = client.post(reverse("operations:report", args=[finished_operation.pk]),
                    {"remarks": "", "action": "preview"})
    assert r.status_code == 404
    assert not WrittenReport.objects.exists()


def test_report_apis_issue_without_preview(client, finished_operation, accepted_complaint, engineer, specialist):
    _login(client, engineer)
    r = client.post(f"/api/operations/{finished_operation.pk}/reports/", {"remarks": "API"},
                    content_type="application/json")
    assert r.status_code in (200, 201), r.content
    _login(client, specialist)
    r = client.post(f"/api/complaints/{accepted_complaint.pk}/reports/",
                    {"findings": "f", "actions_taken": "a"}, content_type="application/json")
    assert r.status_code in (200, 201), r.content
    assert WrittenReport.objects.count() == 2
