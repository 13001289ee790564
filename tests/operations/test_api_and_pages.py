"""The API and the pages drive the same services: phone authorization results as status codes,
the feedback form meeting C5, and the report as a real PDF with a CJK font and its hash."""

import hashlib
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from operations import services
from operations.choices import OperationState
from operations.models import OperationRequest, PhoneAttempt
from sla.choices import ClockState
from sla.models import Clock

from .conftest import SECRET, T0, upload

pytestmark = pytest.mark.django_db


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_phone_authorization_status_codes(operation, engineer, contact_a, settings):
    settings.PHONE_AUTH_MAX_FAILURES = 1
    url = reverse("api-operation-phone-authorization", args=[operation.pk])
    body = {"contact": contact_a.pk, "caller_name": "王经理", "mrtg_username": "alpha-mrtg"}
    api = _api(engineer)
    wrong = api.post(url, {**body, "mrtg_password": "nope"})
    assert wrong.status_code == 403 and wrong.json()["result"] == "unauthorized"
    assert "mrtg_password" not in wrong.json()
    # A refusal is an error response: the one error body (detail, code) with the logged attempt.
    assert wrong.json()["code"] == "unauthorized" and wrong.json()["detail"]
    locked = api.post(url, {**body, "mrtg_password": SECRET})
    assert locked.status_code == 423 and locked.json()["result"] == "locked"
    assert locked.json()["code"] == "locked" and locked.json()["detail"]
    assert PhoneAttempt.objects.count() == 2


def test_api_full_flow(operation, engineer, contact_a):
    api = _api(engineer)
    ok = api.post(reverse("api-operation-phone-authorization", args=[operation.pk]),
                  {"contact": contact_a.pk, "mrtg_username": "alpha-mrtg", "mrtg_password": SECRET})
    assert ok.status_code == 201
    assert api.post(reverse("api-operation-messages", args=[operation.pk]),
                    {"body": "已收到授权"}).status_code == 201
    assert api.post(reverse("api-operation-start", args=[operation.pk])).json()["state"] == "in_progress"
    assert api.post(reverse("api-operation-steps", args=[operation.pk]),
                    {"description": "备份配置"}).status_code == 201
    assert api.post(reverse("api-operation-finish", args=[operation.pk]),
                    {"result": "成功"}).json()["state"] == "finished"
    r = api.post(reverse("api-operation-reports", args=[operation.pk]), {"remarks": ""})
    assert r.status_code == 201 and r.json()["number"].startswith(operation.number)
    detail = api.get(reverse("api-operation-detail", args=[operation.pk])).json()
    assert detail["state"] == "reported"
    assert [a["method"] for a in detail["authorizations"]] == ["phone"]
    assert len(detail["phone_attempts"]) == 1 and len(detail["reports"]) == 1
    # The written authorization still owed after the phone call can be uploaded afterwards.
    r = api.post(reverse("api-operation-written-authorization", args=[operation.pk]),
                 {"file": upload(), "contact": contact_a.pk}, format="multipart")
    assert r.status_code == 201
    assert Clock.objects.get(object_id=operation.pk, policy__code="C7").state == ClockState.MET


def test_page_phone_and_feedback(client, operation, engineer, contact_a):
    client.force_login(engineer)
    r = client.post(reverse("operations:phone", args=[operation.pk]),
                    {"contact": contact_a.pk, "mrtg_username": "alpha-mrtg", "mrtg_password": "bad"})
    assert r.status_code == 302
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.REQUESTED
    page = client.get(reverse("operations:detail", args=[operation.pk]))
    assert page.context["can_refuse"] and len(page.context["attempts"]) == 1
    assert SECRET not in page.content.decode()
    client.post(reverse("operations:phone", args=[operation.pk]),
                {"contact": contact_a.pk, "mrtg_username": "alpha-mrtg", "mrtg_password": SECRET})
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.AUTHORIZED
    r = client.post(reverse("operations:feedback", args=[operation.pk]), {"body": "工程师已接手"})
    assert r.status_code == 302
    assert Clock.objects.get(object_id=operation.pk, policy__code="C5").state == ClockState.MET


def _pdf_tool(tool, path):
    args = [tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_report_pdf_states_who_authorized_what_with_cjk_font(operation, engineer, contact_a):
    services.phone_authorization_attempt(operation_id=operation.pk, contact=contact_a,
                                         mrtg_username="alpha-mrtg", mrtg_password=SECRET,
                                         actor=engineer, now=T0)
    services.operation_start(operation_id=operation.pk, actor=engineer, now=T0 + timedelta(minutes=2))
    services.operation_step_add(operation_id=operation.pk, description="更换 RAID 卡", actor=engineer,
                                now=T0 + timedelta(minutes=3))
    services.operation_finish(operation_id=operation.pk, actor=engineer, result="服务器恢复正常",
                              now=T0 + timedelta(minutes=30))
    report = services.operation_report_issue(operation_id=operation.pk, actor=engineer,
                                             now=T0 + timedelta(hours=1))
    data = open(report.file.path, "rb").read()
    assert hashlib.sha256(data).hexdigest() == report.sha256
    text = _pdf_tool("pdftotext", report.file.path)
    for expected in ("操作情况报告", operation.number, "王经理", "电话授权", "更换 RAID 卡", "服务器恢复正常"):
        assert expected in text, expected
    assert any("CJK" in line for line in _pdf_tool("pdffonts", report.file.path).splitlines())
    with pytest.raises(ValueError):
        report.save()
    fix = services.operation_report_issue(operation_id=operation.pk, actor=engineer, remarks="更正",
                                          corrects=report, now=T0 + timedelta(hours=2))
    assert fix.version == 2 and fix.supersedes_id == report.pk


def test_detail_page_renders_in_every_state_for_engineer_and_customer(client, operation, engineer,
                                                                       alice, contact_a):
    url = reverse("operations:detail", args=[operation.pk])
    steps = [
        lambda: services.authorization_upload_written(operation_id=operation.pk, f=upload(),
                                                      contact=contact_a, actor=engineer, now=T0),
        lambda: services.operation_start(operation_id=operation.pk, actor=engineer, now=T0),
        lambda: services.operation_step_add(operation_id=operation.pk, description="s", actor=engineer,
                                            now=T0),
        lambda: services.operation_finish(operation_id=operation.pk, result="r", actor=engineer, now=T0),
        lambda: services.operation_report_issue(operation_id=operation.pk, actor=engineer, now=T0),
        lambda: services.operation_close(operation_id=operation.pk, actor=engineer, now=T0),
    ]
    for step in [lambda: None, *steps]:
        step()
        state = OperationRequest.objects.get(pk=operation.pk).state
        for user in (engineer, alice):
            client.force_login(user)
            r = client.get(url)
            assert r.status_code == 200, (state, user)
            assert r.context["can_start"] == (user == engineer and state == OperationState.AUTHORIZED)
