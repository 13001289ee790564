"""The issued report is a real PDF with an embedded CJK font, its hash matches the file, and
rendering reaches nothing outside the project."""

import hashlib
import http.server
import subprocess
import threading

import pytest

from complaints.services import complaint_accept, complaint_create, complaint_report_issue
from reports.rendering import FetchRefused, StaticOnlyFetcher

from .conftest import DAY1_10

pytestmark = pytest.mark.django_db


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()


def _pdf_tool(tool, path):
    return subprocess.run([tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)],
                          check=True, capture_output=True, text=True).stdout


def test_issued_report_is_a_valid_pdf_with_cjk_font_and_matching_hash(complaint, specialist):
    complaint_accept(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    report = complaint_report_issue(complaint_id=complaint.pk, actor=specialist,
                                    findings="核心交换机端口故障", actions_taken="已更换端口", now=DAY1_10)
    path = report.file.path
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == report.sha256
    text = _pdf_tool("pdftotext", path)
    assert complaint.number in text
    assert "网络品质" in text  # the Chinese subject label
    assert "投诉处理情况报告" in text
    fonts = _pdf_tool("pdffonts", path)
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk)  # embedded


def test_english_complainant_gets_bilingual_report(service_a, specialist, customer_a):
    from tests.factories import AuthorizedContactFactory

    contact = AuthorizedContactFactory(customer=customer_a, name="John Smith", language="en",
                                       email="john@alpha.test")
    c = complaint_create(customer=customer_a, actor=specialist, channel="email", subject="tech_support",
                         title="Slow answers", description="Nobody answered for two days.",
                         complainant_contact=contact, now=DAY1_10)
    complaint_accept(complaint_id=c.pk, actor=specialist, now=DAY1_10)
    report = complaint_report_issue(complaint_id=c.pk, actor=specialist, findings="Understaffed shift",
                                    actions_taken="Added an engineer", now=DAY1_10)
    text = _pdf_tool("pdftotext", report.file.path)
    assert "Complaint Handling Report" in text and "投诉处理情况报告" in text


def test_user_markup_is_shown_as_text_and_fetches_nothing(service_a, specialist, customer_a, http_server):
    port = http_server.server_address[1]
    evil = f'<img src="http://127.0.0.1:{port}/tracker.png"> <img src="file:///etc/passwd">'
    c = complaint_create(customer=customer_a, actor=specialist, channel="portal", subject="network",
                         title="markup", description=evil, complainant_name="X", now=DAY1_10)
    complaint_accept(complaint_id=c.pk, actor=specialist, now=DAY1_10)
    report = complaint_report_issue(complaint_id=c.pk, actor=specialist, findings=evil,
                                    actions_taken="none", now=DAY1_10)
    text = _pdf_tool("pdftotext", report.file.path)
    assert "file:///etc/passwd" in text and "tracker.png" in text
    assert "root:x:0:0" not in text
    assert _Recorder.hits == []


def test_fetcher_refuses_everything_but_static(http_server):
    from weasyprint import HTML

    port = http_server.server_address[1]
    fetcher = StaticOnlyFetcher()
    for url in (f"http://127.0.0.1:{port}/x.png", "file:///etc/passwd", "data:text/plain,hi",
                "static:../../etc/passwd"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    # Even raw markup rendered with this fetcher never reaches the server.
    HTML(string=f'<img src="http://127.0.0.1:{port}/raw.png"><link rel=stylesheet '
                f'href="http://127.0.0.1:{port}/x.css">', url_fetcher=fetcher).write_pdf()
    assert _Recorder.hits == []
