"""Reading the service mailbox (seed 002 §9: customer service by e-mail). Each message is
recorded once per Message-ID (InboundMail's unique constraint) and then:

- subject with a valid thread token ([SR-2026-000042#<signature>]) from an address of that
  request's customer: appended to the request as the customer's reply;
- no token, from a known authorized contact's address: opens a new request (an inquiry);
- a token whose signature does not verify (forged, or altered), a valid token from an address
  that is not that customer's, or an unknown sender: kept as unmatched for staff, who see it on
  the service desk's mailbox page and either append it to a request by hand or dismiss it.
  Nothing is appended or opened by itself."""

from __future__ import annotations

import email
import email.policy
import hashlib
import imaplib
import logging
import re
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.models import AuthorizedContact
from slaportal.errors import ConflictError, DomainError

from ..choices import InboundOutcome, RequestChannel, RequestKind
from ..models import InboundMail, ServiceRequest
from .common import require_handler, thread_token_valid
from .requests import reply_add, request_create

logger = logging.getLogger(__name__)

TAG = re.compile(r"\[(SR-\d{4}-\d+)#([A-Za-z0-9_-]+)\]")
BODY_LIMIT = 100_000


def _text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return str(text)[:BODY_LIMIT]


def _strip_quote(text: str) -> str:
    """The new text of a reply: lines quoted with '>' and everything after our own signature
    separator are what the customer answered to, not what they wrote."""
    out = []
    for line in text.splitlines():
        if line.strip() == "--":
            break
        if line.lstrip().startswith(">"):
            continue
        out.append(line)
    return "\n".join(out).strip() or text.strip()


def _contacts_for(address: str) -> list[AuthorizedContact]:
    return list(AuthorizedContact.objects.filter(email__iexact=address, active=True)
                .select_related("customer"))


def inbound_mail_process(*, raw: bytes, now: datetime | None = None) -> InboundMail | None:
    """Record and act on one message from the mailbox; None when its Message-ID was seen before
    (reading the mailbox twice, or two readers at once, appends nothing twice)."""
    now = now or timezone.now()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    message_id = str(msg.get("Message-ID", "")).strip()[:500]
    if not message_id:
        # No Message-ID: the content itself names the message, so a re-read is still one row.
        message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    _name, address = parseaddr(str(msg.get("From", "")))
    subject = str(msg.get("Subject", ""))[:500]
    body = _text_of(msg)
    with transaction.atomic():
        try:
            with transaction.atomic():
                mail = InboundMail.objects.create(
                    message_id=message_id, from_address=address[:254], subject=subject, body=body,
                    received_at=now, outcome=InboundOutcome.UNMATCHED)
        except IntegrityError:
            return None  # this Message-ID was read before
        _dispatch(mail, name=_name, now=now)
    return mail


def _dispatch(mail: InboundMail, *, name: str, now: datetime) -> None:
    contacts = _contacts_for(mail.from_address) if mail.from_address else []
    m = TAG.search(mail.subject)
    if m is not None:
        number, token = m.group(1), m.group(2)
        if not thread_token_valid(number, token):
            mail.outcome = InboundOutcome.FORGED
            mail.save(update_fields=["outcome"])
            logger.warning("servicedesk: refused a reply with a forged token for %s from %s", number,
                           mail.from_address)
            return
        sr = ServiceRequest.objects.filter(number=number).first()
        contact = next((c for c in contacts if sr is not None and c.customer_id == sr.customer_id), None)
        known = sr is not None and (contact is not None
                                    or mail.from_address.lower() == sr.requester_email.lower())
        if sr is None or not known:
            return  # a valid token from a stranger's address (forwarded mail): staff decide
        try:
            entry = reply_add(request_id=sr.pk, actor=None, body=_strip_quote(mail.body),
                              channel=RequestChannel.EMAIL, contact=contact,
                              from_email=mail.from_address, now=now)
        except DomainError:
            return  # a closed request takes no replies: the mail stays unmatched for staff
        mail.outcome, mail.request, mail.entry = InboundOutcome.APPENDED, sr, entry
        mail.save(update_fields=["outcome", "request", "entry"])
        return
    customers = {c.customer_id for c in contacts}
    if len(customers) != 1:
        return  # unknown sender, or an address shared by contacts of two customers: staff decide
    contact = contacts[0]
    sr = request_create(
        customer=contact.customer, actor=None, kind=RequestKind.INQUIRY, channel=RequestChannel.EMAIL,
        title=(mail.subject or _("(no subject)"))[:200], description=mail.body or _("(empty message)"),
        contact=contact, requester_name=name or contact.name, requester_email=mail.from_address,
        opened_at=now, now=now)
    mail.outcome, mail.request = InboundOutcome.OPENED, sr
    mail.save(update_fields=["outcome", "request"])


def inbound_mail_append(*, mail_id: int, request_id: int, actor: Any, now: datetime | None = None) -> InboundMail:
    """Staff append an unmatched message to a request by hand (they checked the sender)."""
    require_handler(actor)
    now = now or timezone.now()
    with transaction.atomic():
        mail = InboundMail.objects.select_for_update().get(pk=mail_id)
        if mail.outcome not in (InboundOutcome.UNMATCHED, InboundOutcome.FORGED):
            raise ConflictError(_("This message was already handled."))
        entry = reply_add(request_id=request_id, actor=None, body=_strip_quote(mail.body),
                          channel=RequestChannel.EMAIL, from_email=mail.from_address, now=now)
        mail.outcome, mail.request_id, mail.entry = InboundOutcome.APPENDED, request_id, entry
        mail.handled_by, mail.handled_at = actor, now
        mail.save()
        audit_record(obj=mail, action="append", actor=actor, now=now, data={"request": request_id})
    return mail


def inbound_mail_dismiss(*, mail_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> InboundMail:
    """Staff set an unmatched message aside (spam, a forgery)."""
    require_handler(actor)
    now = now or timezone.now()
    with transaction.atomic():
        mail = InboundMail.objects.select_for_update().get(pk=mail_id)
        if mail.outcome not in (InboundOutcome.UNMATCHED, InboundOutcome.FORGED):
            raise ConflictError(_("This message was already handled."))
        before = mail.outcome
        mail.outcome, mail.handled_by, mail.handled_at = InboundOutcome.DISMISSED, actor, now
        mail.save()
        audit_record(obj=mail, action="dismiss", actor=actor, from_state=before,
                     to_state=mail.outcome, reason=reason, now=now)
    return mail


# --- IMAP -------------------------------------------------------------------------------------

def _imap_connect() -> imaplib.IMAP4:
    host, port = settings.SERVICEDESK_IMAP_HOST, settings.SERVICEDESK_IMAP_PORT
    security = settings.SERVICEDESK_IMAP_SECURITY
    timeout = 30
    c: imaplib.IMAP4
    if security == "ssl":
        c = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=timeout)
    else:
        c = imaplib.IMAP4(host, port, timeout=timeout)
    try:
        if security == "starttls":
            c.starttls(ssl_context=ssl.create_default_context())
        c.login(settings.SERVICEDESK_IMAP_USER, settings.SERVICEDESK_IMAP_PASSWORD)
    except BaseException:
        try:
            c.shutdown()
        except OSError:
            pass
        raise
    return c


def mailbox_read_once(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """One pass over the mailbox: every unseen message is processed and then flagged \\Seen.
    A crash between the two only means the next pass reads it again, and its Message-ID is
    already recorded. Returns counts by outcome (and 'seen_before')."""
    counts: dict[str, int] = {}
    if not settings.SERVICEDESK_IMAP_HOST:
        return counts
    c = _imap_connect()
    try:
        c.select(settings.SERVICEDESK_IMAP_FOLDER)
        typ, data = c.uid("SEARCH", "UNSEEN")  # type: ignore[arg-type]
        uids = (data[0] or b"").split()[:limit] if typ == "OK" else []
        for uid in uids:
            typ, parts = c.uid("FETCH", uid, "(BODY.PEEK[])")  # type: ignore[arg-type]
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if typ != "OK" or raw is None:
                continue
            mail = inbound_mail_process(raw=raw, now=now)
            key = mail.outcome if mail is not None else "seen_before"
            counts[key] = counts.get(key, 0) + 1
            c.uid("STORE", uid, "+FLAGS", r"(\Seen)")  # type: ignore[arg-type]
    finally:
        try:
            c.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return counts
