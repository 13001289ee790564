"""The local mail catcher: `manage.py mailcatcher` in a subprocess accepts what Django's SMTP
backend sends, keeps one .eml per message (the newest N), logs one line per message without the
body, stops on SIGTERM; staff read the messages at /runtime/mailbox/, nobody else does, and no
name in a URL reaches a file the catcher did not write."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.shortcuts import resolve_url
from django.test import override_settings

from runtime.mailcatcher import MailStore, is_message_name, message_name

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SUBJECT = "【SLA 告警】C8 投诉报告已超时 · 华夏数据"
BODY = "正文第一行：这是一封测试邮件。\nSECRET-BODY-MARKER 不应出现在日志里。"
KEY = "clock:42:breach:user:7:email"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_NAME = "投诉报告-2026-03.pdf"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Catcher:
    """`manage.py mailcatcher` as `make run` starts it, in its own process."""

    def __init__(self, folder: Path, log: Path, *, max_messages: int) -> None:
        self.folder, self.log, self.port = folder, log, _free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings_test", "LOG_LEVEL": "INFO"}
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "mailcatcher", "--host", "127.0.0.1", "--port", str(self.port),
             "--dir", str(folder), "--max-messages", str(max_messages)],
            cwd=settings.BASE_DIR, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text(errors="replace")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"mail catcher did not start: {log.read_text(errors='replace')}")

    def send(self, *messages: EmailMessage) -> None:
        with override_settings(EMAIL_BACKEND=SMTP_BACKEND, EMAIL_HOST="127.0.0.1", EMAIL_PORT=self.port,
                               EMAIL_USE_TLS=False, EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD=""):
            with get_connection() as conn:
                assert conn.send_messages(list(messages)) == len(messages)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=15)


def _message(subject: str = SUBJECT, *, pdf: bool = True) -> EmailMessage:
    m = EmailMessage(subject=subject, body=BODY, from_email="sla-portal@localhost",
                     to=["ops@huaxia.example"], bcc=["audit@provider.example"],
                     headers={"X-SLA-Idempotency-Key": KEY})
    if pdf:
        m.attach(PDF_NAME, PDF, "application/pdf")
    return m


@pytest.fixture(scope="module")
def caught(tmp_path_factory):
    """A catcher that has received one message with a PDF and a Chinese subject."""
    folder = tmp_path_factory.mktemp("mailcatcher")
    catcher = Catcher(folder, folder.parent / "catcher.log", max_messages=50)
    try:
        catcher.send(_message())
        yield catcher
    finally:
        catcher.stop()


def _subject(path: Path) -> str:
    return str(BytesParser(policy=policy.default).parsebytes(path.read_bytes())["Subject"]).strip()


def _only_name(folder: Path) -> str:
    [name] = MailStore(folder).names()
    return name


def test_the_message_is_stored_whole_as_one_eml_file(caught):
    files = sorted(p.name for p in caught.folder.iterdir())
    assert len(files) == 1 and files[0].endswith(".eml") and is_message_name(files[0][:-4])
    msg = BytesParser(policy=policy.default).parsebytes((caught.folder / files[0]).read_bytes())
    assert str(msg["Subject"]).strip() == SUBJECT
    assert msg["X-SLA-Idempotency-Key"] == KEY
    assert "audit@provider.example" in msg["X-Envelope-To"]  # the Bcc is kept (envelope)
    assert "Bcc" not in msg
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n").strip() == BODY
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == PDF_NAME and att.get_payload(decode=True) == PDF


def test_one_log_line_per_message_without_body_or_attachment(caught):
    deadline = time.monotonic() + 5
    while "mail caught" not in caught.log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [ln for ln in caught.log.read_text(errors="replace").splitlines() if "mail caught" in ln]
    assert len(lines) == 1, lines
    line = lines[0]
    assert "from=sla-portal@localhost" in line and "ops@huaxia.example" in line
    assert SUBJECT in line and "size=" in line
    assert "SECRET-BODY-MARKER" not in line and PDF_NAME not in line
    assert "SECRET-BODY-MARKER" not in caught.log.read_text(errors="replace")


@pytest.mark.django_db
def test_staff_see_the_list_the_message_and_download_the_attachment(client, specialist, caught):
    name = _only_name(caught.folder)
    client.force_login(specialist)
    with override_settings(MAILCATCHER_DIR=str(caught.folder)):
        page = client.get("/runtime/mailbox/")
        assert page.status_code == 200
        html = page.content.decode()
        assert SUBJECT in html and PDF_NAME in html and KEY in html
        assert "sla-portal@localhost" in html and "ops@huaxia.example" in html
        assert f"/runtime/mailbox/{name}/" in html
        assert 'href="/runtime/mailbox/"' in html  # the navigation link: the folder exists

        detail = client.get(f"/runtime/mailbox/{name}/")
        assert detail.status_code == 200
        html = detail.content.decode()
        assert SUBJECT in html and "正文第一行" in html and PDF_NAME in html and "application/pdf" in html
        assert f"/runtime/mailbox/{name}/attachments/0/" in html

        download = client.get(f"/runtime/mailbox/{name}/attachments/0/")
        assert download.status_code == 200
        assert download.content == PDF
        assert download["Content-Disposition"] == 'attachment; filename="attachment-1.pdf"'
        assert download["Content-Type"] == "application/octet-stream"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert client.get(f"/runtime/mailbox/{name}/attachments/1/").status_code == 404


@pytest.mark.django_db
def test_html_parts_are_shown_escaped_never_rendered(client, specialist, tmp_path):
    m = EmailMessage(subject="html", body="<b>plain</b>", from_email="a@example.test", to=["b@example.test"])
    m.content_subtype = "html"
    m.body = '<p>hello</p><script>alert("x")</script>'
    MailStore(tmp_path).save(m.message().as_bytes())
    client.force_login(specialist)
    with override_settings(MAILCATCHER_DIR=str(tmp_path)):
        html = client.get(f"/runtime/mailbox/{_only_name(tmp_path)}/").content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_a_customer_gets_404_and_anonymous_the_login_page(client, alice, caught):
    name = _only_name(caught.folder)
    urls = ["/runtime/mailbox/", f"/runtime/mailbox/{name}/", f"/runtime/mailbox/{name}/attachments/0/"]
    with override_settings(MAILCATCHER_DIR=str(caught.folder)):
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 302 and resp["Location"].startswith(resolve_url(settings.LOGIN_URL))
        client.force_login(alice)
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 404
            assert SUBJECT not in resp.content.decode()
        assert 'href="/runtime/mailbox/"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_staff_role_without_the_notification_permission_is_refused(client, dc_staff, caught):
    client.force_login(dc_staff)
    with override_settings(MAILCATCHER_DIR=str(caught.folder)):
        assert client.get("/runtime/mailbox/").status_code == 403
        assert 'href="/runtime/mailbox/"' not in client.get("/").content.decode()


@pytest.mark.django_db
def test_names_the_catcher_did_not_make_are_404(client, specialist, caught, tmp_path):
    name = _only_name(caught.folder)
    # Files next to the messages that a traversal or a loose pattern would reach.
    (caught.folder / "notes.eml").write_bytes((caught.folder / f"{name}.eml").read_bytes())
    secret = tmp_path / "secret.eml"
    # Its content is a marker no URL carries (the 404 page echoes the path in its language form).
    secret.write_bytes(b"Subject: TOP-SECRET-CONTENT\r\n\r\nTOP-SECRET-CONTENT\r\n")
    client.force_login(specialist)
    bad = ["notes", "notes.eml", f"{name}.eml", f"{name}x", name.replace("Z", "z"), "..", "%2e%2e",
           "..%2F..%2Fetc%2Fpasswd", "..%252F..%252Fetc%252Fpasswd", f"..%2F{tmp_path.name}%2Fsecret",
           "%2Fetc%2Fpasswd", message_name(datetime.now(UTC)),
           "２０２６０３０２Ｔ１００００００００００００Ｚ-0123abcd"]
    try:
        with override_settings(MAILCATCHER_DIR=str(caught.folder)):
            for n in bad:
                for url in (f"/runtime/mailbox/{n}/", f"/runtime/mailbox/{n}/attachments/0/"):
                    resp = client.get(url)
                    assert resp.status_code == 404, url
                    assert b"TOP-SECRET-CONTENT" not in resp.content and SUBJECT.encode() not in resp.content
            # The list shows only the catcher's own files.
            assert client.get("/runtime/mailbox/").content.decode().count("/attachments/") == 0
            assert "notes" not in client.get("/runtime/mailbox/").content.decode()
    finally:
        (caught.folder / "notes.eml").unlink()


@pytest.mark.django_db
def test_without_the_folder_the_page_says_so_and_the_navigation_has_no_link(client, specialist, tmp_path):
    client.force_login(specialist)
    with override_settings(MAILCATCHER_DIR=str(tmp_path / "absent")):
        resp = client.get("/runtime/mailbox/")
        assert resp.status_code == 200 and str(tmp_path / "absent") in resp.content.decode()
        assert 'href="/runtime/mailbox/"' not in client.get("/").content.decode()


def test_keeps_the_newest_n_and_stops_cleanly_on_sigterm(tmp_path):
    folder = tmp_path / "caught"
    catcher = Catcher(folder, tmp_path / "catcher.log", max_messages=3)
    try:
        for i in range(5):
            catcher.send(_message(f"第 {i} 封 message {i}", pdf=False))
            time.sleep(0.002)  # distinct receive times (names sort by them)
        names = MailStore(folder).names()
        subjects = [_subject(folder / f"{n}.eml") for n in names]
        assert subjects == ["第 4 封 message 4", "第 3 封 message 3", "第 2 封 message 2"]
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.eml" for n in names)  # no temp files
    finally:
        assert catcher.stop() == 0
    log = (tmp_path / "catcher.log").read_text(errors="replace")
    assert log.count("mail caught") == 5
    assert "mail catcher stopped" in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", catcher.port), timeout=0.5).close()


def test_store_prunes_the_oldest_and_writes_atomically(tmp_path):
    store = MailStore(tmp_path, max_messages=2)
    t = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    names = [store.save(f"Subject: {i}\r\n\r\nbody\r\n".encode(), received_at=t + timedelta(seconds=i))
             for i in range(4)]
    assert store.names() == [names[3], names[2]]
    assert names[0].startswith("20260302T020000000000Z-")
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".eml")] == []
    assert store.path(names[0]) is None and store.path(names[3]) == tmp_path / f"{names[3]}.eml"
