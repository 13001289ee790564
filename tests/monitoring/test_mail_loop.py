"""The mail loop against real servers on 127.0.0.1 (aiosmtpd submission with AUTH delivering into a
Maildir served by dovecot): it measures a real round trip into LatencyHourly once per message;
stopping IMAP makes it fail, two failures open an E1 outage on the e-mail service, and starting
IMAP again ends it."""

from __future__ import annotations

import asyncio
import time

from incidents.models import Incident, Outage
from mailservice.models import LatencyHourly
from monitoring.choices import CheckKind, TargetState
from monitoring.models import Mailbox, ProbeDaily, Target
from monitoring.probes import PROBE_MESSAGE_ID_PREFIX, probe_many
from monitoring.services import probe_results_record, targets_claim

from .mailfixtures import ADDRESS, PASSWORD, STEP, T, run

LOOP = {"kind": CheckKind.MAIL_LOOP}


def test_mailbox_creates_one_target_per_check(mailbox):
    kinds = set(Target.objects.filter(mailbox=mailbox, active=True).values_list("kind", flat=True))
    assert kinds == {"submission", "imap", "pop3", "mailloop"}  # no webmail URL: no webmail check


def test_the_loop_measures_a_real_round_trip_once(mailbox, mail_servers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        totals = run(T, **LOOP)
    assert totals == {"ok": 1, "probed": 1}
    t = Target.objects.get(mailbox=mailbox, kind=CheckKind.MAIL_LOOP)
    assert t.state == TargetState.UP and t.last_method == "mailloop"
    assert mail_servers.accepted == 1 and mail_servers.messages(ADDRESS) == 0  # sent, found, deleted
    day = ProbeDaily.objects.get(target=t)
    assert day.ok_count == 1 and 0 <= day.ok_total_ms < 5000 and day.ok_total_ms == day.total_ms
    [row] = LatencyHourly.objects.all()
    assert (row.domain.domain, row.source, row.direction, row.count) == ("alpha-mail.test", "probe", "receive", 1)
    assert row.total_ms == day.ok_total_ms and row.max_ms == row.total_ms

    # A replay of the same results (a retried batch) measures nothing twice.
    Target.objects.filter(pk=t.pk).update(next_due_at=T + STEP)
    specs = targets_claim(now=T + STEP)
    assert [s.kind for s in specs] == ["mailloop"] and specs[0].mail and specs[0].mail.password
    assert PASSWORD not in repr(specs[0])  # the unsealed password never reaches a log line
    results = asyncio.run(probe_many(specs))
    with django_capture_on_commit_callbacks(execute=True):
        probe_results_record(results=results, now=T + STEP)
    with django_capture_on_commit_callbacks(execute=True):
        probe_results_record(results=results, now=T + STEP)
    row.refresh_from_db()
    assert row.count == 2 and mail_servers.accepted == 2


def test_a_message_found_late_is_measured_once(mailbox, mail_servers, django_capture_on_commit_callbacks):
    Mailbox.objects.filter(pk=mailbox.pk).update(timeout_seconds=1.0)
    Target.objects.filter(mailbox=mailbox).update(timeout_seconds=1.0)
    mail_servers.delivery_delay = 2.0     # the platform is slower than the loop's timeout
    with django_capture_on_commit_callbacks(execute=True):
        assert run(T, **LOOP) == {"failed": 1, "probed": 1}
    mailbox.refresh_from_db()
    [pending] = mailbox.loop_state["pending"]
    assert not LatencyHourly.objects.exists()

    mail_servers.delivery_delay = 0
    time.sleep(1.5)                       # the first message is in the mailbox by now
    with django_capture_on_commit_callbacks(execute=True):
        assert run(T + STEP, **LOOP)["ok"] == 1
    mailbox.refresh_from_db()
    assert mailbox.loop_state["pending"] == []
    [row] = LatencyHourly.objects.all()
    assert row.count == 2                  # this loop's own message and the late one
    assert row.max_ms >= 1000              # the late one took 2 s (INTERNALDATE: whole seconds, so ≥ 1 s)
    assert mail_servers.messages(ADDRESS) == 0


def test_imap_down_fails_the_loop_two_failures_open_an_e1_outage_and_recovery_ends_it(
        mailbox, mail_servers, email_service, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert run(T, **LOOP)["ok"] == 1
    mail_servers.imap_stop()
    with django_capture_on_commit_callbacks(execute=True):
        run(T + STEP, **LOOP)
    t = Target.objects.get(mailbox=mailbox, kind=CheckKind.MAIL_LOOP)
    assert t.state == TargetState.FAILING and not Incident.objects.exists()
    assert t.last_detail.startswith("IMAP")
    with django_capture_on_commit_callbacks(execute=True):
        assert run(T + 2 * STEP, **LOOP)["declared"] == 1
    [outage] = Outage.objects.filter(target=t)
    assert outage.service == email_service and outage.started_at == T + STEP and outage.ended_at is None
    assert Incident.objects.get().service == email_service

    mail_servers.imap_start()             # same port again
    with django_capture_on_commit_callbacks(execute=True):
        assert run(T + 3 * STEP, **LOOP)["recovered"] == 1
    outage.refresh_from_db()
    assert (outage.started_at, outage.ended_at) == (T + STEP, T + 3 * STEP)
    t.refresh_from_db()
    assert t.state == TargetState.UP


def test_probe_messages_carry_the_shared_prefix(mailbox, mail_servers):
    from monitoring.mailprobes import _loop_message, mail_spec_for, token_new

    msg = _loop_message(mail_spec_for(mailbox), token_new(mailbox.pk, 1))
    assert msg["Message-ID"].startswith("<" + PROBE_MESSAGE_ID_PREFIX)
