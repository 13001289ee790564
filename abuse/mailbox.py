"""Reading the abuse mailbox (seed 002 §4.2: abuse@域名) by IMAP: every message not yet taken
becomes one spam case (abuse.services.case_open_from_mail, idempotent by Message-ID).

A message taken is marked with the IMAP keyword $SlaportalCase so the next reading skips it; a
person reading the mailbox in a mail client (which sets \\Seen) does not hide anything from the
portal. The keyword is only a shortcut: if marking fails, or two readers fetch the same message,
the unique Message-ID still gives one case. The case's clocks start at the message's INTERNALDATE
(when the mail server received it), not when the portal read it."""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

from monitoring.choices import MailSecurity
from monitoring.sealing import UnsealError, unseal

from .models import AbuseDesk
from .services import case_open_from_mail
from .services.desk import desk_read_status

logger = logging.getLogger(__name__)

KEYWORD = "$SlaportalCase"
TIMEOUT = 30.0
BATCH = 200


@dataclass
class ReadResult:
    """What one reading did: messages looked at, cases opened, messages already known."""

    seen: int = 0
    created: list[int] = field(default_factory=list)
    known: int = 0
    error: str = ""


def _open(desk: AbuseDesk, password: str) -> imaplib.IMAP4:
    c: imaplib.IMAP4
    if desk.imap_security == MailSecurity.TLS:
        c = imaplib.IMAP4_SSL(desk.imap_host, desk.imap_port, ssl_context=ssl.create_default_context(),
                              timeout=TIMEOUT)
    else:
        c = imaplib.IMAP4(desk.imap_host, desk.imap_port, timeout=TIMEOUT)
    try:
        if desk.imap_security == MailSecurity.STARTTLS:
            c.starttls(ssl_context=ssl.create_default_context())
        c.login(desk.imap_login, password)
    except BaseException:
        try:
            c.shutdown()
        except OSError:
            pass
        raise
    return c


_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _received_at(meta: bytes, now: datetime) -> datetime:
    m = _INTERNALDATE.search(meta)
    if m is None:
        return now
    tt = imaplib.Internaldate2tuple(b'INTERNALDATE "' + m.group(1) + b'"')
    if tt is None:
        return now
    import time

    return datetime.fromtimestamp(time.mktime(tt), tz=UTC)


def mailbox_read_once(*, now: datetime | None = None) -> ReadResult:
    """One reading of the configured abuse mailbox (one iteration of the reader loop, the Celery
    task's whole work). Does nothing when reading is off or not configured."""
    result = ReadResult()
    desk = AbuseDesk.objects.filter(pk=1).first()
    if desk is None or not desk.reading_enabled or not desk.imap_host:
        return result
    started = now or timezone.now()
    try:
        password = unseal(desk.imap_password_sealed) if desk.imap_password_sealed else ""
    except UnsealError:
        result.error = "the mailbox password cannot be read with the current key: enter it again"
        desk_read_status(at=started, error=result.error)
        return result
    c: imaplib.IMAP4 | None = None
    try:
        c = _open(desk, password)
        typ, _data = c.select(desk.imap_folder or "INBOX")
        if typ != "OK":
            raise imaplib.IMAP4.error(f"SELECT {desk.imap_folder} failed")
        typ, data = c.uid("SEARCH", "UNKEYWORD", KEYWORD)
        if typ != "OK":
            raise imaplib.IMAP4.error("SEARCH failed")
        uids = [u.decode("ascii") for u in (data[0] or b"").split()[:BATCH]]
        for uid in uids:
            typ, parts = c.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            if typ != "OK":
                continue
            raw, meta = b"", b""
            for part in parts:
                if isinstance(part, tuple):
                    meta, raw = part[0], part[1]
            if not raw:
                continue
            result.seen += 1
            case, created = case_open_from_mail(raw=raw, received_at=_received_at(meta, started),
                                                now=now or timezone.now())
            if created:
                result.created.append(case.pk)
            else:
                result.known += 1
            # Marked after the case is committed: a crash in between reads it again, harmlessly.
            c.uid("STORE", uid, "+FLAGS", f"({KEYWORD})")
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as e:
        result.error = f"{type(e).__name__}: {e}"[:500]
        logger.warning("reading the abuse mailbox failed: %s", result.error)
    finally:
        if c is not None:
            try:
                c.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
    desk_read_status(at=started, error=result.error)
    return result
