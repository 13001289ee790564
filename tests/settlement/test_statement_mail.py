"""The monthly statement's e-mail figures (seed 002 §1–§3): each e-mail service of the customer
carries its month's mailbox connectivity, send and receive latency and operations figures with
targets and verdicts; a closed month states the judgements (the statement and the judgements
agree), a month not closed yet the live figures; the PDF reads them in Chinese."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailservice.aggregates import LatencyAccumulator
from mailservice.models import MailDomain, PlatformEvent
from mailservice.selectors import mail_month_figures
from settlement.models import Judgement
from settlement.services import month_close
from settlement.statements import statement_content, statement_issue
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
FEB = date(2026, 2, 1)
CLOSE_AT = datetime(2026, 3, 1, 2, 0, tzinfo=TZ)
LATER = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)


def samples(domain: MailDomain, latencies_ms: list[int], *, direction: str, at: datetime) -> None:
    acc = LatencyAccumulator()
    for i, ms in enumerate(latencies_ms):
        acc.add(domain_id=domain.pk, at=at.timestamp() + i, direction=direction, source="log", latency_ms=ms)
    acc.flush()


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    """February 2026: sending averages 4 s; three received messages over 1 hour (E2-SLOW and the
    receiving average broken);
    a 101-minute platform fault (E3-FAULT and the availability broken); no billing figure."""
    contract = f.ContractFactory(customer=customer_a, number="HT-2026-0099")
    service = f.ServiceFactory(contract=contract, kind="email", name="企业邮箱 甲")
    domain = f.MailDomainFactory(service=service, domain="alpha.example.cn")
    samples(domain, [2_000, 4_000, 6_000], direction="send", at=datetime(2026, 2, 10, 9, tzinfo=TZ))
    samples(domain, [1_000, 3_700_000, 3_800_000, 3_900_000], direction="receive",
            at=datetime(2026, 2, 20, 22, tzinfo=TZ))
    start = datetime(2026, 2, 15, 3, 0, tzinfo=TZ)
    PlatformEvent.objects.create(platform=domain.platform, kind="fault", title="存储节点宕机", started_at=start,
                                 ended_at=start + timedelta(minutes=101), recorded_at=start)
    return service


def mail_of(content: dict, service) -> dict:  # type: ignore[no-untyped-def]
    [s] = [s for s in content["services"] if s["id"] == service.pk]
    return s["mail"]


def test_a_closed_month_states_the_judgements(mail, customer_a, manager):
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    m = mail_of(statement_content(customer=customer_a, first=FEB, now=LATER), mail)
    figures = {x["code"]: x for x in m["figures"]}
    judged = {j.policy.code: j for j in Judgement.objects.filter(service=mail, month=FEB, current=True)
              .select_related("policy")}
    for code, j in judged.items():
        assert figures[code]["verdict"] == j.verdict, code
        assert figures[code]["value"] == str(j.value), code
    assert figures["E2-SLOW"]["verdict"] == "breached" and figures["E2-SLOW"]["measured"] == "3 次"
    assert figures["E3-FAULT"]["verdict"] == "breached" and figures["E3-FAULT"]["measured"] == "101:00 分钟"
    # The three slow messages also lift the receiving average far over a minute.
    assert figures["E3-ADJUST"]["verdict"] == "met" and figures["E2-AVG"]["verdict"] == "breached"
    assert figures["E3-DAYS"]["measured"] == "364 / 365" and figures["E3-DAYS"]["target"] == "≥ 360 天"
    assert figures["E3-BILL"]["verdict"] == "" and figures["E3-BILL"]["verdict_display"] == "未测量"
    assert figures["E3-BILL"]["target"] == "≤ 3×10⁻⁵"
    assert figures["E1"]["measured"] == "0:00 分钟" and figures["E1"]["target"] == "< 44 分钟"
    send, receive = m["directions"]
    assert (send["direction_display"], send["messages"], send["average"], send["over_hour"]) == ("发送延迟", 3, "4.0 秒", 0)
    assert (receive["direction_display"], receive["messages"], receive["over_hour"]) == ("接收延迟", 4, 3)
    assert m["latency_source_display"] == "投递日志"


def test_the_statement_of_a_closed_month_follows_its_judgement_not_a_recount(mail, customer_a, manager):
    """A late sample that nothing re-judged does not change what the statement says was judged."""
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    samples(MailDomain.objects.get(service=mail), [4_000_000], direction="send",
            at=datetime(2026, 2, 25, 9, tzinfo=TZ))
    live = mail_month_figures(services=[mail], year=2026, month=2, now=LATER)[mail.pk]
    assert live.over_hour == 4
    figures = {x["code"]: x for x in mail_of(statement_content(customer=customer_a, first=FEB, now=LATER),
                                               mail)["figures"]}
    assert figures["E2-SLOW"]["measured"] == "3 次"
    assert figures["E2-SLOW"]["value"] == str(Judgement.objects.get(service=mail, policy__code="E2-SLOW",
                                                                   current=True).value)


def test_a_month_not_closed_states_the_live_figures(mail, customer_a):
    content = statement_content(customer=customer_a, first=FEB, now=LATER)
    assert content["provisional"] is True
    figures = {x["code"]: x for x in mail_of(content, mail)["figures"]}
    live = mail_month_figures(services=[mail], year=2026, month=2, now=LATER)[mail.pk]
    as_verdict = {True: "met", False: "breached", None: ""}
    for code, kept in live.verdicts.items():
        if code in figures:
            assert figures[code]["verdict"] in (as_verdict[kept], "not_applicable"), code
    assert figures["E3-FAULT"]["verdict"] == "breached"


def test_a_hosting_service_has_no_email_figures(customer_a, mail):
    hosting = f.ServiceFactory(contract=mail.contract, kind="colocation", name="托管服务器 甲")
    content = statement_content(customer=customer_a, first=FEB, now=LATER)
    [h] = [s for s in content["services"] if s["id"] == hosting.pk]
    assert "mail" not in h
    # The outage list holds outages only, never the e-mail figures' other evidence.
    [m] = [s for s in content["services"] if s["id"] == mail.pk]
    assert m["outages"] == []


def test_the_pdf_lists_the_email_figures_in_chinese(mail, customer_a, manager):
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    report = statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER)
    text = subprocess.run(["pdftotext", "-layout", report.file.path, "-"], check=True, capture_output=True,
                          text=True).stdout
    for expected in ("本月邮件服务指标", "投递日志", "发送延迟", "接收延迟", "4.0 秒", "每月故障总历时",
                     "101:00 分钟", "364 / 365", "全年无故障天数", "系统可用率", "计费差错率", "已违约",
                     "已达成", "未测量", "企业邮箱 甲"):
        assert expected in text, expected
    for code in (" send ", " receive ", " fault ", " log "):
        assert code not in f" {text} ", code


def test_the_statement_page_shows_the_email_figures_to_its_customer_only(mail, customer_a, manager, alice,
                                                                          charlie, client):
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER)
    url = f"/settlement/statements/{customer_a.pk}/2026-02/"
    client.force_login(alice)
    html = client.get(url).content.decode()
    assert "本月邮件服务指标" in html and "101:00 分钟" in html and "364 / 365" in html
    client.force_login(charlie)
    assert client.get(url).status_code == 404
