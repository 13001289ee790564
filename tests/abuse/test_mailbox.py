"""The abuse mailbox reader against a real dovecot (tests/mailservers.py): an abuse e-mail
becomes exactly one case, even when the reader runs twice (acceptance) or two readers race."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from abuse.mailbox import mailbox_read_once
from abuse.models import AbuseDesk, SpamCase
from abuse.services import case_open_from_mail, desk_save
from tests.abuse.test_complaint_case import clocks
from tests.mailservers import MailServers

ABUSE = "abuse@provider.test"


@pytest.fixture
def servers() -> Iterator[MailServers]:
    s = MailServers({ABUSE: "abuse-pw"}).start()
    try:
        yield s
    finally:
        s.stop()


def abuse_mail(mid: str = "<spam-report-1@alpha.cn>", sender: str = "王经理 <wang@alpha.cn>") -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = sender, ABUSE, "举报：收到大量广告邮件", mid
    m.set_content("来自 203.0.113.7 的广告邮件，每天数百封。")
    return m.as_bytes()


def configure(servers: MailServers, manager: Any) -> None:
    desk_save(actor=manager, password="abuse-pw", data={
        "contact_name": "李工", "phone": "010-12345678", "email": ABUSE, "imap_host": "127.0.0.1",
        "imap_port": servers.imap_port, "imap_security": "none", "imap_login": ABUSE, "imap_folder": "INBOX",
        "reading_enabled": True})


@pytest.mark.django_db
def test_an_abuse_email_becomes_exactly_one_case_even_when_the_reader_runs_twice(
        servers: MailServers, manager: Any, mail_service_a: Any) -> None:
    configure(servers, manager)
    before = timezone.now()
    servers.deliver(ABUSE, abuse_mail())
    first = mailbox_read_once()
    assert first.error == "" and len(first.created) == 1
    second = mailbox_read_once()
    assert second.created == [] and second.error == ""
    # The command (one iteration per call) finds nothing new either.
    out = StringIO()
    call_command("abuse_mailbox_read", "--once", stdout=out)
    assert "created=0" in out.getvalue()
    case = SpamCase.objects.get()
    assert case.source == "mailbox" and case.kind == "inbound"
    assert case.message_id == "<spam-report-1@alpha.cn>" and case.mail_from == "wang@alpha.cn"
    assert case.title == "举报：收到大量广告邮件" and case.complainant_name == "王经理"
    # The sender writes from customer A's mail domain: the case concerns customer A.
    assert case.customer_id == mail_service_a.customer_id
    # The clocks start when the server received the message (INTERNALDATE, whole seconds).
    assert before - timedelta(seconds=2) <= case.opened_at <= timezone.now()
    assert clocks(case)["E4-RESP"].started_at == case.opened_at
    with case.raw_message.open("rb") as fh:
        assert b"Message-ID: <spam-report-1@alpha.cn>" in fh.read()
    assert AbuseDesk.objects.get().last_read_error == ""


@pytest.mark.django_db
def test_a_message_already_read_but_not_marked_is_still_one_case(servers: MailServers, manager: Any) -> None:
    configure(servers, manager)
    raw = abuse_mail("<dup@elsewhere.example>", "Spam Victim <victim@elsewhere.example>")
    case_open_from_mail(raw=raw, received_at=timezone.now())  # as if read before the keyword was set
    servers.deliver(ABUSE, raw)
    r = mailbox_read_once()
    assert r.created == [] and r.known == 1
    case = SpamCase.objects.get()
    assert case.customer is None and case.contract is None  # not one of our customers


@pytest.mark.django_db
def test_a_wrong_password_is_recorded_and_opens_nothing(servers: MailServers, manager: Any) -> None:
    configure(servers, manager)
    desk_save(actor=manager, password="wrong", data={})
    servers.deliver(ABUSE, abuse_mail())
    r = mailbox_read_once()
    assert r.error and not SpamCase.objects.exists()
    assert AbuseDesk.objects.get().last_read_error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_readers_at_once_make_one_case() -> None:
    raw = abuse_mail("<race@elsewhere.example>", "x@elsewhere.example")
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def read() -> None:
        try:
            barrier.wait()
            results.append(case_open_from_mail(raw=raw, received_at=timezone.now())[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, True]
    assert SpamCase.objects.filter(message_id="<race@elsewhere.example>").count() == 1


@pytest.mark.django_db
def test_the_message_id_is_unique_in_the_database_not_only_checked() -> None:
    from django.db import IntegrityError, transaction

    case, _ = case_open_from_mail(raw=abuse_mail("<u@x.example>", "u@x.example"), received_at=timezone.now())
    dup = SpamCase(kind="inbound", source="mailbox", title="t", message_id=case.message_id, opened_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        dup.save()
