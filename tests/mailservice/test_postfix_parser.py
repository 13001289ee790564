"""The Postfix log parser on its own (no database): what each kind of line gives, the year of
classic syslog stamps, RFC 3339 stamps, junk, and a message split across batches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from mailservice.aggregates import LatencyAccumulator
from mailservice.postfix import AGE_OUT_SECONDS, MAX_IN_FLIGHT, PostfixLogParser

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 4, 0, 0, tzinfo=TZ)
FIXTURE = Path(__file__).parent / "fixtures" / "postfix_mail.log"
DOMAINS = {"alpha.cn": 1, "beta.cn": 2}


def fixture_lines() -> list[str]:
    return FIXTURE.read_bytes().decode("utf-8", "replace").splitlines(keepends=True)


def parse(batches: list[list[str]], *, now: datetime = NOW) -> tuple[dict[Any, list[int]], PostfixLogParser]:
    """Feed the batches one parser at a time, carrying the state between them as ingestion does."""
    acc = LatencyAccumulator()
    state: dict[str, Any] | None = None
    p = None
    for lines in batches:
        p = PostfixLogParser(domains=DOMAINS, state=state, acc=acc, now=now, tz=TZ)
        p.feed(lines)
        state = p.dump()
    assert p is not None
    rows = {(d, datetime.fromtimestamp(h, UTC).strftime("%d %H"), direction): row
            for (d, h, direction, _src), row in acc.rows.items()}
    return rows, p


# count, total_ms, max_ms, excluded, then the nine buckets (≤1s … >1h); hours in UTC.
EXPECTED = {
    (1, "03 02", "send"): [5, 6400, 2300, 0, 2, 3, 0, 0, 0, 0, 0, 0, 0],
    (1, "03 03", "send"): [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    (1, "03 02", "receive"): [1, 600, 600, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
    (2, "03 02", "receive"): [3, 10700, 5000, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0],
    (2, "03 03", "receive"): [2, 3_900_250, 3_900_000, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
    (2, "03 04", "send"): [1, 3_601_000, 3_601_000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
}


def test_the_fixture_gives_exact_samples_per_domain_hour_and_direction() -> None:
    rows, p = parse([fixture_lines()])
    # alpha send 10:00 local: 1.2 s and 2.0 s (a+b, two external recipients), the bounce 0.4 s,
    # the mail to beta 0.5 s, the message through the content filter 2.0 + 0.3 s; 11:00: the
    # greylisted message and the expired one are excluded (deferred by another provider).
    # alpha receive: the non-delivery notice, 0.6 s by LMTP. beta receive: 4.2 s (lmtp on
    # 127.0.0.1:24), 5 s (pipe to dovecot), 1.5 s (from alpha); 11:00: 3,900 s after a deferral
    # by our own dovecot (counted: it was ours) and 0.25 s (virtual). beta send: 3,601 s at 12:15.
    # The loop probe and the junk give nothing.
    assert rows == EXPECTED
    assert (p.samples, p.excluded) == (12, 2)
    assert list(p.inflight) == ["CF2A3B4C12"]  # no "removed" line yet: carried to the next batch


def test_any_split_of_the_log_gives_the_same_samples() -> None:
    lines = fixture_lines()
    for size in (1, 3, 7, 16, 40):
        rows, _p = parse([lines[i:i + size] for i in range(0, len(lines), size)])
        assert rows == EXPECTED, size


def test_a_split_between_the_sender_and_the_delivery_still_attributes_the_message() -> None:
    lines = fixture_lines()
    cut = next(i for i, line in enumerate(lines) if "1A2B3C4D01: from=" in line) + 1
    first, _p = parse([lines[:cut]])
    assert first == {}
    rows, _p = parse([lines[:cut], lines[cut:]])
    assert rows == EXPECTED


def test_without_the_state_a_second_batch_cannot_attribute_the_sender() -> None:
    """The test above can fail: dropping the carried state loses the sender."""
    lines = fixture_lines()
    cut = next(i for i, line in enumerate(lines) if "1A2B3C4D01: from=" in line) + 1
    acc = LatencyAccumulator()
    PostfixLogParser(domains=DOMAINS, state=None, acc=acc, now=NOW, tz=TZ).feed(lines[cut:])
    assert sum(r[0] for k, r in acc.rows.items() if k[0] == 1 and k[2] == "send") < 5


def _line(stamp: str, rest: str) -> str:
    return f"{stamp} mx1 {rest}\n"


def _message(stamp_from: str, stamp_to: str, qid: str = "ABCDE12345") -> list[str]:
    return [_line(stamp_from, f"postfix/qmgr[1]: {qid}: from=<a@alpha.cn>, size=1, nrcpt=1 (queue active)"),
            _line(stamp_to, f"postfix/smtp[2]: {qid}: to=<b@ext.com>, relay=mx.ext.com[192.0.2.1]:25, "
                            "delay=1, delays=0.5/0.5/0/0, dsn=2.0.0, status=sent (250 ok)")]


def _hours(lines: list[str], now: datetime) -> list[datetime]:
    acc = LatencyAccumulator()
    PostfixLogParser(domains=DOMAINS, state=None, acc=acc, now=now, tz=TZ).feed(lines)
    return sorted(datetime.fromtimestamp(h, TZ) for (_d, h, _dir, _s) in acc.rows)


def test_classic_stamps_take_the_year_of_now_or_the_last_one_when_they_would_be_in_the_future() -> None:
    assert _hours(_message("Nov  3 10:00:00", "Nov  3 10:00:01"), NOW) == [datetime(2026, 11, 3, 10, tzinfo=TZ)]
    # Read on 2 January: a December line is last year's.
    jan = datetime(2027, 1, 2, 9, tzinfo=TZ)
    assert _hours(_message("Dec 31 23:59:58", "Dec 31 23:59:59"), jan) == [datetime(2026, 12, 31, 23, tzinfo=TZ)]
    # A log running over New Year's Eve: January after December is the next year.
    lines = _message("Dec 31 23:59:58", "Dec 31 23:59:59") + _message("Jan  1 00:00:01", "Jan  1 00:00:02", "BCDEF23456")
    assert _hours(lines, jan) == [datetime(2026, 12, 31, 23, tzinfo=TZ), datetime(2027, 1, 1, 0, tzinfo=TZ)]


def test_rfc3339_stamps_keep_their_offset() -> None:
    lines = _message("2026-11-03T02:59:59Z", "2026-11-03T03:00:00.5+00:00")
    assert _hours(lines, NOW) == [datetime(2026, 11, 3, 11, tzinfo=TZ)]


def test_the_state_is_bounded_by_age_and_by_count() -> None:
    acc = LatencyAccumulator()
    p = PostfixLogParser(domains=DOMAINS, state=None, acc=acc, now=NOW, tz=TZ)
    p.feed([_line("Nov  1 10:00:00", f"postfix/cleanup[1]: {i:010X}: message-id=<{i}@x>") for i in range(1, 4)])
    later = datetime(2026, 11, 1, 10, tzinfo=TZ).timestamp() + AGE_OUT_SECONDS + 60
    p.feed([_line(datetime.fromtimestamp(later, TZ).isoformat(), "postfix/cleanup[1]: FFFFF00001: message-id=<n@x>")])
    state = p.dump()
    assert list(state["q"]) == ["FFFFF00001"]  # the three older than 6 days of log time are gone
    p.inflight.update({f"{i:010X}": [None, 0, float(i), None, None, 0] for i in range(MAX_IN_FLIGHT + 10)})
    p.last_ts = float(MAX_IN_FLIGHT + 10)
    assert p.prune() == 11 and len(p.inflight) == MAX_IN_FLIGHT
    assert "0000000000" not in p.inflight  # the least recently seen go first
