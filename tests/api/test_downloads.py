"""Every download is served under a name the server builds, with the extension and Content-Type
of the checked type, as an attachment, with nosniff; never under the uploader's file name."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from complaints.models import ComplaintAttachment
from complaints.services import complaint_accept, complaint_attach, complaint_create, complaint_report_issue
from slaportal.downloads import checked_type, download_name, extension_for, name_part
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def complaint(customer_a, specialist):  # type: ignore[no-untyped-def]
    f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), specialist=specialist)
    contact = f.AuthorizedContactFactory(customer=customer_a)
    now = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
    return complaint_create(customer=customer_a, actor=specialist, channel="complaint_line", subject="network",
                            title="网络中断", description="d", complainant_contact=contact, received_at=now, now=now)


def assert_download(r: Any, *, filename: str, content_type: str) -> bytes:
    assert r.status_code == 200
    assert r["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert r["Content-Type"] == content_type
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in r["Cache-Control"]
    return b"".join(r.streaming_content) if r.streaming else r.content


@pytest.mark.parametrize(("uploaded_as", "content", "ext", "mime"), [
    ("evil.html", PNG, "png", "image/png"),
    ("photo.JPG.exe", JPEG, "jpg", "image/jpeg"),
    ("现场照片.svg", PDF, "pdf", "application/pdf"),
], ids=["png-as-html", "jpeg-as-exe", "pdf-as-svg"])
def test_a_complaint_attachment_is_named_by_the_server_with_the_checked_type(
        complaint, alice, client, api, uploaded_as, content, ext, mime):
    att = complaint_attach(complaint_id=complaint.pk, f=SimpleUploadedFile(uploaded_as, content), actor=alice)
    name = f"complaint-{complaint.pk}-attachment-{att.pk}.{ext}"
    r = api(alice).get(reverse("api-complaint-attachment-download", args=[complaint.pk, att.pk]))
    assert assert_download(r, filename=name, content_type=mime) == content
    client.force_login(alice)
    r = client.get(reverse("complaints:attachment_download", args=[complaint.pk, att.pk]))
    assert assert_download(r, filename=name, content_type=mime) == content
    # The uploader's name is kept for people to read, never used for the download.
    assert att.original_name == uploaded_as
    assert uploaded_as.rsplit(".", 1)[0] not in r["Content-Disposition"]


def test_a_stored_type_we_never_checked_is_an_opaque_download(complaint, alice, api):
    att = complaint_attach(complaint_id=complaint.pk, f=SimpleUploadedFile("a.png", PNG), actor=alice)
    ComplaintAttachment.objects.filter(pk=att.pk).update(content_type="text/html")
    r = api(alice).get(reverse("api-complaint-attachment-download", args=[complaint.pk, att.pk]))
    assert_download(r, filename=f"complaint-{complaint.pk}-attachment-{att.pk}.bin",
                    content_type="application/octet-stream")


def test_a_file_missing_from_storage_is_a_404(complaint, alice, api):
    att = complaint_attach(complaint_id=complaint.pk, f=SimpleUploadedFile("a.png", PNG), actor=alice)
    att.file.storage.delete(att.file.name)
    r = api(alice).get(reverse("api-complaint-attachment-download", args=[complaint.pk, att.pk]))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_report_pdf_is_named_after_its_number(complaint, specialist, alice, client, api):
    complaint_accept(complaint_id=complaint.pk, actor=specialist)
    report = complaint_report_issue(complaint_id=complaint.pk, actor=specialist, findings="f", actions_taken="a")
    body = assert_download(api(alice).get(reverse("api-complaint-report-pdf", args=[complaint.pk, report.pk])),
                           filename=f"{report.number}.pdf", content_type="application/pdf")
    assert body.startswith(b"%PDF-")
    client.force_login(alice)
    r = client.get(reverse("complaints:report_pdf", args=[complaint.pk, report.pk]))
    assert_download(r, filename=f"{report.number}.pdf", content_type="application/pdf")
    assert r["X-Content-SHA256"] == report.sha256


def test_the_visit_log_and_the_overdue_review_are_named_by_the_server(manager, client, api):
    r = api(manager).get(reverse("api-visit-log-csv"), {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert_download(r, filename="visit-log-from-20260301-to-20260331.csv", content_type="text/csv; charset=utf-8")
    r = api(manager).get(reverse("api-visit-log-pdf"))
    assert assert_download(r, filename="visit-log.pdf", content_type="application/pdf").startswith(b"%PDF-")
    client.force_login(manager)
    r = client.get(reverse("access_requests:log_csv"), {"date_from": "2026-03-01"})
    assert_download(r, filename="visit-log-from-20260301.csv", content_type="text/csv; charset=utf-8")
    for r in (client.get(reverse("sla:overdue_csv")), api(manager).get("/api/overdue.csv")):
        assert r.status_code == 200 and r["X-Content-Type-Options"] == "nosniff"
        assert r["Content-Disposition"].startswith('attachment; filename="overdue-')
        assert r["Content-Disposition"].endswith('.csv"')


def test_names_and_extensions():
    assert extension_for("image/png") == "png" and extension_for("IMAGE/JPEG") == "jpg"
    assert extension_for("application/pdf; charset=binary") == "pdf"
    assert extension_for("text/html") == "bin"
    assert checked_type("text/html") == "application/octet-stream" and checked_type("image/png") == "image/png"
    assert name_part('../../etc/passwd"; x=".html') == "etc-passwd-x-.html"
    assert name_part("报告") == "file"
    assert download_name("TS20260302-000001-R1", "application/pdf") == "TS20260302-000001-R1.pdf"
