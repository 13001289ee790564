"""The service mailbox, read by IMAP from a real dovecot started by the test (tests/mailservers):
a reply carrying the request's signed token is appended to that request exactly once, however
often the mailbox is read; a forged token is refused (not appended, kept for staff); a new
message from a known contact opens a request; an unknown sender is kept for staff."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.urls import reverse

from servicedesk.choices import InboundOutcome
from servicedesk.management.commands.servicedesk_mailbox_read import iteration
from servicedesk.models import InboundMail, RequestEntry, ServiceRequest
from servicedesk.services import reply_add, thread_tag
from tests.mailservers import MailServers

from .conftest import T0, login

pytestmark = pytest.mark.django_db

DESK = "service@desk.test"


@pytest.fixture
def mailbox(settings):  # type: ignore[no-untyped-def]
    with MailServers({DESK: "desk-pw"}) as ms:
        settings.SERVICEDESK_IMAP_HOST = "127.0.0.1"
        settings.SERVICEDESK_IMAP_PORT = ms.imap_port
        settings.SERVICEDESK_IMAP_SECURITY = "none"
        settings.SERVICEDESK_IMAP_USER = DESK
        settings.SERVICEDESK_IMAP_PASSWORD = "desk-pw"
        yield ms


def mail(*, sender: str, subject: str, body: str, msgid: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"], m["Message-ID"] = sender, DESK, subject, msgid
    m.set_content(body)
    return bytes(m)


def _mark_all_unseen(ms: MailServers) -> None:
    import imaplib

    c = imaplib.IMAP4("127.0.0.1", ms.imap_port)
    c.login(DESK, "desk-pw")
    c.select("INBOX")
    c.store("1:*", "-FLAGS", r"(\Seen)")
    c.logout()


def test_reply_with_the_token_is_appended_once_and_a_forged_one_is_refused(mailbox, sr, specialist, contact_a):
    reply_add(request_id=sr.pk, actor=specialist, body="请确认带宽", wait_for_customer=True,
              now=T0 + timedelta(minutes=30))
    tag = thread_tag(sr.number)
    mailbox.deliver(DESK, mail(sender="王经理 <wang@alpha.test>", subject=f"Re: {tag} 回复",
                               body="确认 100M。\n\n> 请确认带宽\n", msgid="<r1@alpha.test>"))
    forged = f"[{sr.number}#{'A' * len(tag.split('#')[1].rstrip(']'))}]"
    mailbox.deliver(DESK, mail(sender="wang@alpha.test", subject=f"Re: {forged} 改价",
                               body="价格改成 1 元", msgid="<forged@evil.test>"))
    counts = iteration()
    assert counts == {"appended": 1, "forged": 1}
    replies = RequestEntry.objects.filter(request=sr, by_staff=False)
    assert [e.body for e in replies] == ["确认 100M。"]
    assert replies[0].channel == "email" and replies[0].author_contact == contact_a
    sr.refresh_from_db()
    assert sr.state == "in_progress"  # the customer's answer resumed the waiting request
    # Reading again (the same messages unseen once more: a crash before \Seen) appends nothing.
    _mark_all_unseen(mailbox)
    assert iteration() == {"seen_before": 2}
    assert RequestEntry.objects.filter(request=sr, by_staff=False).count() == 1
    forged_row = InboundMail.objects.get(message_id="<forged@evil.test>")
    assert forged_row.outcome == InboundOutcome.FORGED and forged_row.request is None
    assert not RequestEntry.objects.filter(body__contains="1 元").exists()
    # staff see it on the mailbox page and can dismiss it
    page = login(specialist).get(reverse("servicedesk:mailbox")).content.decode()
    assert "改价" in page
    r = login(specialist).post(reverse("servicedesk:mailbox_action", args=[forged_row.pk]), {"action": "dismiss"})
    assert r.status_code == 302
    forged_row.refresh_from_db()
    assert forged_row.outcome == InboundOutcome.DISMISSED


def test_new_mail_from_a_known_contact_opens_a_request_and_a_stranger_is_kept(mailbox, service_a, contact_a, specialist):
    mailbox.deliver(DESK, mail(sender="wang@alpha.test", subject="询问续费", body="合同何时到期？",
                               msgid="<new1@alpha.test>"))
    mailbox.deliver(DESK, mail(sender="nobody@elsewhere.test", subject="hello", body="spam",
                               msgid="<s1@elsewhere.test>"))
    assert iteration() == {"opened": 1, "unmatched": 1}
    sr = ServiceRequest.objects.get()
    assert sr.channel == "email" and sr.customer == service_a.customer and sr.contact == contact_a
    assert sr.assignee == specialist and sr.title == "询问续费"
    assert InboundMail.objects.get(message_id="<s1@elsewhere.test>").request is None


def test_a_valid_token_from_another_customers_address_is_not_appended(mailbox, sr, charlie):
    from tests import factories as f

    f.AuthorizedContactFactory(customer=charlie.customer_link.customer, email="eve@charlie.test")
    mailbox.deliver(DESK, mail(sender="eve@charlie.test", subject=f"Re: {thread_tag(sr.number)}",
                               body="我也要", msgid="<x@charlie.test>"))
    assert iteration() == {"unmatched": 1}
    assert not sr.entries.exists()
