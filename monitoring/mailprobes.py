"""The checks of a probe mailbox (E1 mailbox connectivity, seed 002 §1): SMTP submission with AUTH,
IMAP and POP3 login, and the mail loop, which sends a uniquely tagged message through submission to
the mailbox itself and polls IMAP until it is there (as monitoring systems' mail-loop checks do).

Why smtplib/imaplib/poplib in a thread pool rather than asyncio streams: these are whole protocol
clients (STARTTLS, SASL PLAIN/LOGIN, IMAP literals and untagged responses, POP3 multi-line replies,
dot-stuffing) that a hand-written stream client would have to reimplement and get right; a mail
loop spends its time waiting (for delivery, between polls), so a thread costs a little memory and
no CPU. The pool has one thread per mailbox of a 1,000-mailbox cycle (SLAPORTAL_MAIL_PROBE_THREADS
to change it), so a cycle in which every loop times out still ends within one timeout (≤ 60 s),
inside the engine's 90 s claim lease.

Measured round trip (the mail loop's latency): from the SMTP 250 reply to the end of DATA to the
first IMAP poll that finds the message ("first seen"; polls every 50 ms, growing to 1 s, so the
figure is high by at most one poll interval). IMAP INTERNALDATE has whole-second resolution and
is the server's clock, so it is used only for messages of earlier loops found late, whose first
sighting says nothing about when they arrived: latency = INTERNALDATE − the send time written in
the message's token."""

from __future__ import annotations

import asyncio
import email.utils
import imaplib
import os
import poplib
import re
import secrets
import smtplib
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from typing import Any

from django.utils.translation import gettext as _

from .choices import CheckKind, MailSecurity, ProbeMethod
from .probes import PROBE_MESSAGE_ID_PREFIX, LoopOutcome, LoopSample, MailSpec, ProbeResult, ProbeSpec

POOL_SIZE = int(os.environ.get("SLAPORTAL_MAIL_PROBE_THREADS", "1000"))
POLL_FIRST, POLL_GROWTH, POLL_MAX = 0.05, 1.5, 1.0
_TOKEN_RE = re.compile(rb"<" + re.escape(PROBE_MESSAGE_ID_PREFIX.encode()) + rb"([0-9]+)\.([0-9]+)\.([0-9a-f]+)@")
_UID_RE = re.compile(rb"UID (\d+)")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

METHODS: dict[str, str] = {CheckKind.SUBMISSION: ProbeMethod.SUBMIT, CheckKind.IMAP: ProbeMethod.IMAP,
                           CheckKind.POP3: ProbeMethod.POP3, CheckKind.MAIL_LOOP: ProbeMethod.LOOP}


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="mailprobe")
        return _pool


async def mail_probe(spec: ProbeSpec) -> ProbeResult:
    """Run one mailbox check in the pool; never raises."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), mail_probe_sync, spec)


def token_new(mailbox_id: int, sent_ms: int) -> str:
    """A loop message's token: mailbox, send time (ms) and a random part; the Message-ID is
    <PROBE_MESSAGE_ID_PREFIX + token + @slaportal.invalid>."""
    return f"{mailbox_id}.{sent_ms}.{secrets.token_hex(4)}"


def token_sent_ms(token: str) -> int:
    return int(token.split(".")[1])


def _reply(e: BaseException) -> str:
    text = str(e.args[0] if e.args else e)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text.strip()[:160]


def _failure(e: BaseException, timeout: float) -> str:
    """A failure in words (Chinese by default: the detail is shown on the monitoring pages)."""
    if isinstance(e, smtplib.SMTPAuthenticationError):
        err = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return _("login refused: %(reply)s") % {"reply": f"{e.smtp_code} {err}"[:160]}
    if isinstance(e, smtplib.SMTPResponseException):
        err = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
        return _("the server refused: %(reply)s") % {"reply": f"{e.smtp_code} {err}"[:160]}
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return _("the server refused the recipient")
    if isinstance(e, smtplib.SMTPNotSupportedError):
        return _("the server does not offer login (AUTH) here")
    if isinstance(e, imaplib.IMAP4.error | poplib.error_proto):
        reply = _reply(e)
        if "auth" in reply.lower() or "login" in reply.lower() or "password" in reply.lower():
            return _("login refused: %(reply)s") % {"reply": reply}
        return _("the server refused: %(reply)s") % {"reply": reply}
    if isinstance(e, TimeoutError | socket.timeout):
        return _("no answer within %(seconds)s s") % {"seconds": f"{timeout:g}"}
    if isinstance(e, ConnectionRefusedError):
        return _("connection refused")
    if isinstance(e, ssl.SSLError):
        return _("encryption (TLS) failed: %(error)s") % {"error": _reply(e)}
    if isinstance(e, OSError):
        return _("connection failed: %(error)s") % {"error": e.strerror or _reply(e)}
    return _("check failed: %(error)s") % {"error": type(e).__name__}


def _ctx() -> ssl.SSLContext:
    return ssl.create_default_context()


def smtp_open(m: MailSpec, timeout: float) -> smtplib.SMTP:
    """Connect to submission, upgrade as configured and log in when credentials are present."""
    c: smtplib.SMTP
    if m.smtp_security == MailSecurity.TLS:
        c = smtplib.SMTP_SSL(m.smtp_host, m.smtp_port, timeout=timeout, context=_ctx())
    else:
        c = smtplib.SMTP(m.smtp_host, m.smtp_port, timeout=timeout)
    try:
        c.ehlo()
        if m.smtp_security == MailSecurity.STARTTLS:
            c.starttls(context=_ctx())
            c.ehlo()
        if m.password:
            c.login(m.login, m.password)
    except BaseException:
        c.close()
        raise
    return c


def imap_open(m: MailSpec, timeout: float) -> imaplib.IMAP4:
    c: imaplib.IMAP4
    if m.imap_security == MailSecurity.TLS:
        c = imaplib.IMAP4_SSL(m.imap_host, m.imap_port, ssl_context=_ctx(), timeout=timeout)
    else:
        c = imaplib.IMAP4(m.imap_host, m.imap_port, timeout=timeout)
    try:
        if m.imap_security == MailSecurity.STARTTLS:
            c.starttls(ssl_context=_ctx())
        c.login(m.login, m.password)
    except BaseException:
        try:
            c.shutdown()
        except OSError:
            pass
        raise
    return c


def _imap_close(c: imaplib.IMAP4) -> None:
    try:
        c.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _submission(m: MailSpec, timeout: float) -> tuple[bool, str]:
    c = smtp_open(m, timeout)
    try:
        code, _msg = c.noop()
    finally:
        try:
            c.quit()
        except (OSError, smtplib.SMTPException):
            c.close()
    if m.password:
        return code == 250, _("logged in to submission")
    return code == 250, _("submission answered (no credentials configured)")


def _imap_login(m: MailSpec, timeout: float) -> tuple[bool, str]:
    c = imap_open(m, timeout)
    try:
        typ, data = c.select("INBOX", readonly=True)
    finally:
        _imap_close(c)
    if typ != "OK":
        return False, _("logged in, but the inbox cannot be opened")
    return True, _("logged in; %(count)s messages in the inbox") % {"count": (data[0] or b"0").decode()}


def _pop3_login(m: MailSpec, timeout: float) -> tuple[bool, str]:
    c: poplib.POP3
    if m.pop3_security == MailSecurity.TLS:
        c = poplib.POP3_SSL(m.pop3_host, m.pop3_port, timeout=timeout, context=_ctx())
    else:
        c = poplib.POP3(m.pop3_host, m.pop3_port, timeout=timeout)
    try:
        if m.pop3_security == MailSecurity.STARTTLS:
            c.stls(context=_ctx())
        c.user(m.login)
        c.pass_(m.password)
        count, _size = c.stat()
    finally:
        try:
            c.quit()
        except (OSError, poplib.error_proto):
            c.close()
    return True, _("logged in; %(count)s messages") % {"count": count}


def _probe_messages(c: imaplib.IMAP4, mailbox_id: int, known: dict[int, tuple[str, float]]
                    ) -> dict[int, tuple[str, float]]:
    """The loop messages of this mailbox now in the inbox that were not seen before:
    uid → (token, INTERNALDATE as epoch seconds)."""
    c.noop()  # lets the server notice newly delivered messages before the search
    typ, data = c.uid("SEARCH", "HEADER", "Message-ID", f'"{PROBE_MESSAGE_ID_PREFIX}{mailbox_id}."')
    if typ != "OK":
        raise imaplib.IMAP4.error(_reply(Exception(data)))
    uids = [int(u) for u in (data[0] or b"").split() if int(u) not in known]
    found: dict[int, tuple[str, float]] = {}
    if not uids:
        return found
    typ, rows = c.uid("FETCH", ",".join(map(str, uids)),
                      "(INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    for row in rows:
        if not isinstance(row, tuple):
            continue
        head, body = row[0], row[1]
        um, tm = _UID_RE.search(head), _TOKEN_RE.search(body or b"")
        if um is None or tm is None or int(tm.group(1)) != mailbox_id:
            continue
        when = imaplib.Internaldate2tuple(head)
        found[int(um.group(1))] = (b".".join(tm.groups()).decode(),
                                   time.mktime(when) if when else time.time())
    return found


def _loop_message(m: MailSpec, token: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = m.address
    msg["To"] = m.address
    msg["Subject"] = f"SLA Portal mail loop {token}"
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = f"<{PROBE_MESSAGE_ID_PREFIX}{token}@slaportal.invalid>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("Mail loop probe of the SLA portal: measures delivery into this mailbox. "
                    "It is deleted by the next probe.\n")
    return msg


def mail_loop(m: MailSpec, timeout: float) -> tuple[bool, str, LoopOutcome, int | None]:
    """Send a tagged message to the mailbox itself and poll IMAP for it until `timeout`; delete it
    and any older loop messages found (reported as late samples). Returns ok, detail, outcome and
    the round trip in ms (None when not measured). Never raises."""
    deadline = time.monotonic() + timeout
    stage, token, sent, t250 = "IMAP", "", False, 0.0
    seen: dict[int, tuple[str, float]] = {}
    found: tuple[float, float] | None = None  # (monotonic, wall) of the first sighting
    imap: imaplib.IMAP4 | None = None
    error = ""
    try:
        # IMAP first: when the mailbox cannot be read there is no point sending a message.
        imap = imap_open(m, timeout)
        typ, _data = imap.select("INBOX")
        if typ != "OK":
            raise imaplib.IMAP4.error("SELECT INBOX failed")
        stage = "SMTP"
        token = token_new(m.mailbox_id, int(time.time() * 1000))
        smtp = smtp_open(m, max(0.5, deadline - time.monotonic()))
        try:
            smtp.send_message(_loop_message(m, token), from_addr=m.address, to_addrs=[m.address])
            # send_message returns on the 250 to the end of DATA: the message is "fully received".
            t250, sent = time.monotonic(), True
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        stage = "IMAP"
        wait = POLL_FIRST
        while True:
            new = _probe_messages(imap, m.mailbox_id, seen)
            seen.update(new)
            if any(tok == token for tok, _at in new.values()):
                found = (time.monotonic(), time.time())
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(wait, left))
            wait = min(wait * POLL_GROWTH, POLL_MAX)
    except Exception as e:  # noqa: BLE001 - a failure is a result
        error = f"{stage}: {_failure(e, timeout)}"
    samples: list[LoopSample] = []
    removed: list[str] = []
    latency: int | None = None
    if found is not None:
        latency = max(0, int((found[0] - t250) * 1000))
        samples.append(LoopSample(token=token, delivered_at=found[1], latency_ms=latency))
    delete_note = ""
    if imap is not None and seen:
        try:
            uids = ",".join(str(u) for u in sorted(seen))
            imap.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")
            imap.expunge()
            for tok, at in seen.values():
                removed.append(tok)
                if tok != token:
                    # An earlier loop's message: INTERNALDATE minus its send time (see the module doc).
                    samples.append(LoopSample(token=tok, delivered_at=at, late=True,
                                              latency_ms=max(0, int(at * 1000) - token_sent_ms(tok))))
        except (OSError, imaplib.IMAP4.error) as e:
            delete_note = " · " + _("probe messages could not be deleted: %(error)s") % {
                "error": _failure(e, timeout)}
    if imap is not None:
        _imap_close(imap)
    outcome = LoopOutcome(samples=tuple(samples), sent_token=token if sent and found is None else "",
                          removed=tuple(removed))
    if found is not None:
        return True, _("the message arrived in %(seconds)s s") % {
            "seconds": f"{latency / 1000:.2f}" if latency is not None else "?"} + delete_note, outcome, latency
    if error:
        return False, error + delete_note, outcome, None
    return False, _("the probe message was not in the mailbox after %(seconds)s s") % {
        "seconds": f"{timeout:g}"} + delete_note, outcome, None


def mail_probe_sync(spec: ProbeSpec) -> ProbeResult:
    """One mailbox check, blocking (run in the pool)."""
    started = time.monotonic()
    method = str(METHODS.get(spec.kind, ProbeMethod.TCP))
    m = spec.mail
    outcome: LoopOutcome | None = None
    latency: int | None = None
    try:
        if m is None:
            ok, detail = False, _("No probe mailbox is configured for this check.")
        elif m.unseal_error:
            ok, detail = False, _("The stored password cannot be read (the sealing key changed): enter it again.")
        elif spec.kind == CheckKind.SUBMISSION:
            ok, detail = _submission(m, spec.timeout)
        elif spec.kind == CheckKind.IMAP:
            ok, detail = _imap_login(m, spec.timeout)
        elif spec.kind == CheckKind.POP3:
            ok, detail = _pop3_login(m, spec.timeout)
        else:
            ok, detail, outcome, latency = mail_loop(m, spec.timeout)
    except Exception as e:  # noqa: BLE001 - a failure is a result
        ok, detail = False, _failure(e, spec.timeout)
    elapsed = int((time.monotonic() - started) * 1000)
    return ProbeResult(spec.id, ok, method, detail[:300], latency if latency is not None else elapsed,
                       loop=outcome)


def mail_spec_for(mailbox: Any) -> MailSpec:
    """The MailSpec of a Mailbox row, its password unsealed (for the claim)."""
    from .sealing import UnsealError, unseal

    password, err = "", ""
    if mailbox.password_sealed:
        try:
            password = unseal(mailbox.password_sealed)
        except UnsealError as e:
            err = str(e)
    return MailSpec(mailbox_id=mailbox.pk, address=mailbox.address, login=mailbox.login, password=password,
                    smtp_host=mailbox.smtp_host, smtp_port=mailbox.smtp_port,
                    smtp_security=mailbox.smtp_security, imap_host=mailbox.imap_host,
                    imap_port=mailbox.imap_port, imap_security=mailbox.imap_security,
                    pop3_host=mailbox.pop3_host, pop3_port=mailbox.pop3_port,
                    pop3_security=mailbox.pop3_security, unseal_error=err)
