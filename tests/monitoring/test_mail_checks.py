"""Submission, IMAP and POP3 checks log in with the probe mailbox's credentials against real
servers; a wrong password fails each of them. The webmail check reads the whole page and its
successful probes' time lands in ProbeDaily.ok_total_ms."""

from __future__ import annotations

from monitoring.choices import CheckKind, TargetState
from monitoring.models import ProbeDaily, Target
from monitoring.services import mailbox_save

from .mailfixtures import ADDRESS, STEP, T, mailbox_data, run
from .servers import HttpServer

LOGINS = [CheckKind.SUBMISSION, CheckKind.IMAP, CheckKind.POP3]


def test_logins_succeed_and_fail_on_a_wrong_password(mailbox, mail_servers, engineer):
    assert run(T, kind__in=LOGINS) == {"ok": 3, "probed": 3}
    for t in Target.objects.filter(kind__in=LOGINS):
        assert t.state == TargetState.UP, (t.kind, t.last_detail)

    mailbox_save(service=mailbox.service, data={"password": "wrong-password"}, actor=engineer, mailbox=mailbox)
    totals = run(T + STEP, kind__in=LOGINS)
    assert totals == {"failed": 3, "probed": 3}
    details = dict(Target.objects.filter(kind__in=LOGINS).values_list("kind", "last_detail"))
    assert set(details) == set(LOGINS)
    assert all(d for d in details.values())
    # Each refusal is the server's answer to the login, not a connection problem.
    assert "535" in details["submission"]
    assert "AUTHENTICATIONFAILED" in details["imap"] or "Authentication failed" in details["imap"]
    assert "Authentication failed" in details["pop3"] or "ERR" in details["pop3"]


def test_webmail_reads_the_page_and_sums_successful_time(email_service, engineer, mail_servers):
    web = HttpServer().start()
    try:
        mb = mailbox_save(service=email_service, actor=engineer, now=T - STEP, data=mailbox_data(
            mail_servers, smtp_host="", imap_host="", pop3_host="",
            webmail_url=f"http://127.0.0.1:{web.port}/webmail/"))
        [t] = Target.objects.filter(mailbox=mb, active=True)
        assert t.kind == CheckKind.WEBMAIL
        assert run(T)["ok"] == 1
        web.status = 503
        assert run(T + STEP)["failed"] == 1
    finally:
        web.stop()
    day = ProbeDaily.objects.get(target=t)
    assert (day.ok_count, day.fail_count) == (1, 1)
    assert day.ok_total_ms <= day.total_ms
    t.refresh_from_db()
    assert t.last_detail.startswith("HTTP 503")


def test_changing_the_mailbox_switches_checks_off(mailbox, engineer):
    mailbox_save(service=mailbox.service, data={"pop3_host": ""}, actor=engineer, mailbox=mailbox)
    active = set(Target.objects.filter(mailbox=mailbox, active=True).values_list("kind", flat=True))
    assert active == {"submission", "imap", "mailloop"}
    mailbox_save(service=mailbox.service, data={"active": False}, actor=engineer, mailbox=mailbox)
    assert not Target.objects.filter(mailbox=mailbox, active=True).exists()
    assert ADDRESS == mailbox.address
