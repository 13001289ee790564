"""Delivery-log ingestion into the hourly aggregates: exactly once (replays, overlaps, two
concurrent shippers), gaps refused, rotation restarts the cursor, closed months re-judged, and the
management command reading a file (one step, resume, rotation like tail -F)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from mailservice.ingest import fingerprint_of, log_ingest
from mailservice.management.commands.maillog_ingest import LogFollower
from mailservice.models import BUCKET_FIELDS, DeliveryLogSource, LatencyHourly
from slaportal.errors import ConflictError
from tests.factories import MailDomainFactory
from tests.mailservice.test_postfix_parser import EXPECTED, FIXTURE, NOW, fixture_lines

TZ = ZoneInfo("Asia/Shanghai")


def aggregates() -> dict[tuple[str, str, str], list[int]]:
    """The stored aggregates in the parser test's layout (domain name instead of id)."""
    out = {}
    for r in LatencyHourly.objects.select_related("domain"):
        key = (r.domain.domain, r.hour.astimezone(UTC).strftime("%d %H"), r.direction)
        out[key] = [r.count, r.total_ms, r.max_ms, r.excluded, *(getattr(r, f) for f in BUCKET_FIELDS)]
        assert r.source == "log"
    return out


def expected() -> dict[tuple[str, str, str], list[int]]:
    names = {1: "alpha.cn", 2: "beta.cn"}
    return {(names[d], h, direction): row for (d, h, direction), row in EXPECTED.items()}


@pytest.fixture
def domains(db: Any) -> None:
    MailDomainFactory(domain="alpha.cn")
    MailDomainFactory(domain="beta.cn")


@pytest.mark.django_db
def test_ingesting_the_fixture_twice_gives_the_same_aggregates(domains: None) -> None:
    lines = fixture_lines()
    r = log_ingest(source_name="mx1", lines=lines, start_line=0, now=NOW)
    assert (r.accepted, r.skipped, r.next_line, r.samples, r.excluded, r.in_flight) == (71, 0, 71, 12, 2, 1)
    assert aggregates() == expected()
    again = log_ingest(source_name="mx1", lines=lines, start_line=0, now=NOW)
    assert (again.accepted, again.skipped, again.samples) == (0, 71, 0)
    assert aggregates() == expected()
    src = DeliveryLogSource.objects.get(name="mx1")
    assert (src.next_line, src.lines_total, src.messages_total) == (71, 71, 12)
    assert list(src.state["q"]) == ["CF2A3B4C12"]


@pytest.mark.django_db
def test_overlapping_batches_count_each_line_once(domains: None) -> None:
    lines = fixture_lines()
    log_ingest(source_name="mx1", lines=lines[:30], start_line=0, now=NOW)
    r = log_ingest(source_name="mx1", lines=lines[20:50], start_line=20, now=NOW)
    assert (r.skipped, r.accepted, r.next_line) == (10, 20, 50)
    log_ingest(source_name="mx1", lines=lines[45:], start_line=45, now=NOW)
    assert aggregates() == expected()


@pytest.mark.django_db
def test_a_gap_is_refused_and_changes_nothing(domains: None) -> None:
    lines = fixture_lines()
    log_ingest(source_name="mx1", lines=lines[:30], start_line=0, now=NOW)
    before = aggregates()
    with pytest.raises(ConflictError) as e:
        log_ingest(source_name="mx1", lines=lines[40:], start_line=40, now=NOW)
    assert e.value.expected_start_line == 30  # type: ignore[attr-defined]
    assert aggregates() == before
    assert DeliveryLogSource.objects.get(name="mx1").next_line == 30


@pytest.mark.django_db
def test_a_new_file_restarts_the_cursor_and_an_old_one_read_again_adds_nothing(domains: None) -> None:
    lines = fixture_lines()
    cut = next(i for i, line in enumerate(lines) if line.startswith("2026-11-03T10:30"))
    old, new = lines[:cut], lines[cut:]
    fp_old, fp_new = fingerprint_of(old[0]), fingerprint_of(new[0])
    log_ingest(source_name="mx1", lines=old, start_line=0, fingerprint=fp_old, now=NOW)
    # logrotate: the new file starts at line 0, the messages in flight carry on into it.
    r = log_ingest(source_name="mx1", lines=new, start_line=0, fingerprint=fp_new, now=NOW)
    assert (r.rotated, r.accepted, r.next_line) == (True, len(new), len(new))
    assert aggregates() == expected()
    # A shipper replaying the rotated file resumes where that file ended; then the new one again.
    r = log_ingest(source_name="mx1", lines=old, start_line=0, fingerprint=fp_old, now=NOW)
    assert (r.accepted, r.skipped) == (0, len(old))
    r = log_ingest(source_name="mx1", lines=new, start_line=0, fingerprint=fp_new, now=NOW)
    assert (r.accepted, r.skipped, r.next_line) == (0, len(new), len(new))
    assert aggregates() == expected()


@pytest.mark.django_db
def test_samples_of_a_closed_month_rejudge_it_for_the_services_that_got_them(domains: None, monkeypatch: Any) -> None:
    from settlement import services as settlement
    from settlement.models import MonthClose

    settlement.month_close(year=2026, month=10, now=datetime(2026, 11, 1, 1, tzinfo=TZ))
    calls: list[dict[str, Any]] = []
    real = settlement.months_rejudge_for_outages

    def spy(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(settlement, "months_rejudge_for_outages", spy)
    october = [line.replace("Nov  3", "Oct 31") for line in fixture_lines() if "5E6F7A8B05" in line]
    r = log_ingest(source_name="mx1", lines=october, start_line=0, now=NOW)
    assert r.samples == 2 and r.rejudged_months == ["2026-10"]
    from mailservice.models import MailDomain

    assert calls[0]["service_ids"] == [MailDomain.objects.get(domain="beta.cn").service_id]
    assert calls[0]["since"] == datetime(2026, 10, 31, 10, 20, 4, tzinfo=TZ)
    assert MonthClose.objects.get(month="2026-10-01").last_judged_at == NOW
    # November is not closed: nothing is re-judged.
    calls.clear()
    r = log_ingest(source_name="mx2", lines=fixture_lines(), start_line=0, now=NOW)
    assert r.rejudged_months == [] and calls == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_shippers_posting_the_same_batch_at_once_count_it_once(domains: None) -> None:
    lines = fixture_lines()
    log_ingest(source_name="mx1", lines=lines[:5], start_line=0, now=NOW)
    errors: list[BaseException] = []

    def ship() -> None:
        try:
            log_ingest(source_name="mx1", lines=lines, start_line=0, now=NOW)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connections["default"].close()

    # Hold the source row so both shippers are inside log_ingest before either can go on: without
    # the row lock both would read cursor 5 and count the batch twice.
    with transaction.atomic():
        DeliveryLogSource.objects.select_for_update().get(name="mx1")
        threads = [threading.Thread(target=ship) for _ in range(2)]
        for t in threads:
            t.start()
        with connection.cursor() as cur:
            for _ in range(200):
                cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype IN ('tuple', 'transactionid')")
                if cur.fetchone()[0] >= 2:
                    break
                threading.Event().wait(0.02)
            else:  # pragma: no cover
                raise AssertionError("the shippers never waited for the source row")
    for t in threads:
        t.join(30)
    assert not errors
    assert aggregates() == expected()
    assert DeliveryLogSource.objects.get(name="mx1").next_line == 71


# --- The management command ------------------------------------------------------------------

@pytest.mark.django_db
def test_the_command_reads_the_file_and_a_second_run_adds_nothing(domains: None, tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(FIXTURE.read_bytes())
    call_command("maillog_ingest", str(log), source="mx1:/var/log/mail.log", batch=9)
    assert aggregates() == expected()
    call_command("maillog_ingest", str(log), source="mx1:/var/log/mail.log")
    assert aggregates() == expected()
    assert DeliveryLogSource.objects.get(name="mx1:/var/log/mail.log").next_line == 71


@pytest.mark.django_db
def test_the_command_and_the_service_share_one_cursor(domains: None, tmp_path: Path) -> None:
    """Half the file arrives through a shipper (the API's service), the command reads the rest."""
    data = FIXTURE.read_bytes()
    lines = fixture_lines()
    log_ingest(source_name="mx1", lines=lines[:33], start_line=0, fingerprint=fingerprint_of(data.split(b"\n")[0]),
               now=NOW)
    log = tmp_path / "mail.log"
    log.write_bytes(data)
    f = LogFollower(path=str(log), source="mx1", batch=1000)
    r = f.step()
    assert r is not None and (r.start_line, r.accepted, r.skipped) == (33, 38, 0)
    assert f.step() is None
    f.close()
    assert aggregates() == expected()


@pytest.mark.django_db
def test_following_a_file_reads_appended_lines_waits_for_partial_ones_and_follows_a_rotation(
        domains: None, tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    raw = data.splitlines(keepends=True)
    cut = next(i for i, line in enumerate(raw) if line.startswith(b"2026-11-03T10:30"))
    log = tmp_path / "mail.log"
    log.write_bytes(b"".join(raw[:20]) + raw[20][:15])  # line 21 is still being written
    f = LogFollower(path=str(log), source="mx1", batch=1000)
    r = f.step()
    assert r is not None and r.accepted == 20
    assert f.step() is None
    with log.open("ab") as out:
        out.write(raw[20][15:] + b"".join(raw[21:cut]))
    r = f.step()
    assert r is not None and (r.start_line, r.accepted) == (20, cut - 20)
    # logrotate: mail.log becomes mail.log.1 and a new mail.log starts.
    log.rename(tmp_path / "mail.log.1")
    log.write_bytes(b"".join(raw[cut:]))
    assert f.step() is None  # the old file is at its end: switch
    r = f.step()
    assert r is not None and (r.rotated, r.start_line, r.accepted) == (True, 0, len(raw) - cut)
    assert aggregates() == expected()
    # copytruncate: the same file cut to nothing and written again is a new file too.
    log.write_bytes(b"Nov  4 00:00:00 mx1 postfix/anvil[1]: statistics: max cache size 1\n" * 2)
    assert f.step() is None  # shorter than what was read: reopen
    r = f.step()
    assert r is not None and (r.rotated, r.start_line, r.accepted, r.next_line) == (True, 0, 2, 2)
    f.close()
    assert aggregates() == expected()
