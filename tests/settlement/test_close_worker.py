"""End to end with the real parts: a Celery worker runs the scheduled month close (the task beat
sends early every day), which judges last month, proposes the rent waiver and queues the
statements; the same worker issues the statement PDF and the sender loop's delivery path e-mails
it to the opted-in contact through an SMTP server on 127.0.0.1. Running the task twice (beat
firing again, or a retry) proposes nothing twice and e-mails nothing twice."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from credits.models import Credit
from incidents.models import Outage
from notifications.services import notifications_deliver_due
from reports.models import WrittenReport
from settlement.models import Judgement, MonthClose
from settlement.services import month_previous
from tests import factories as f
from tests.notifications.servers import SmtpServer
from tests.sla.test_worker_beat import _db_url, _purge_broker, _start, _stop, _wait_for

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_closes_last_month_and_the_statement_reaches_the_opted_in_contact(tmp_path):
    first = month_previous(timezone.now())
    customer = f.CustomerFactory(name="乙测试客户")
    contract = f.ContractFactory(customer=customer, monthly_fee=Decimal("2800.00"),
                                 signed_at=datetime(first.year - 1, 12, 1, 10, tzinfo=TZ))
    service = f.ServiceFactory(contract=contract, kind="rental", name="整机 B1")
    start = datetime(first.year, first.month, 10, 9, tzinfo=TZ)
    Outage.objects.create(service=service, kind="network", source="manual", started_at=start,
                          ended_at=start + timedelta(minutes=45), cause="provider", reported_at=start,
                          created_at=start)
    f.AuthorizedContactFactory(customer=customer, name="订阅人", email="stmt@example.cn", receives_statements=True)
    f.AuthorizedContactFactory(customer=customer, name="未订阅", email="no@example.cn", receives_statements=False)
    _purge_broker()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": _db_url(),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "SLAPORTAL_VAR_DIR": str(settings.VAR_DIR),
           "SETTLEMENT_STATEMENTS": "task", "LOG_LEVEL": "INFO"}
    wlog = tmp_path / "worker.log"
    worker = _start(["worker", "-l", "INFO", "-c", "2", "--without-gossip", "--without-mingle",
                     "--without-heartbeat", "-n", f"settle-{os.getpid()}@%h"], env, wlog)
    try:
        assert _wait_for(lambda: b"ready." in wlog.read_bytes() or worker.poll() is not None, 60), \
            wlog.read_text(errors="replace")
        from settlement.tasks import close_due

        close_due.delay()
        close_due.delay()  # beat firing twice, or a retry: nothing twice

        def statement_issued() -> bool:
            return WrittenReport.objects.filter(customer=customer, kind="statement").exists()

        assert _wait_for(statement_issued, 60, step=0.5), wlog.read_text(errors="replace")[-4000:]
        time.sleep(2)
    finally:
        _stop(worker)
    assert MonthClose.objects.filter(month=first).count() == 1
    j = Judgement.objects.get(service=service, policy__code="C1", current=True)
    assert j.verdict == "breached" and j.counted_seconds == 45 * 60
    [credit] = Credit.objects.filter(contract=contract)
    assert credit.amount == Decimal("2800.00") and credit.state == "proposed"
    assert WrittenReport.objects.filter(customer=customer, kind="statement").count() == 1
    with SmtpServer() as smtp, _smtp_settings(smtp.port):
        notifications_deliver_due(worker="test")
        mails = smtp.sink.snapshot()
    assert [rcpt for rcpt, _m in mails] == [["stmt@example.cn"]]
    _rcpt, message = mails[0]
    assert any(part.get_content_type() == "application/pdf" for part in message.walk())


class _smtp_settings:  # noqa: N801 - a context manager used like override_settings
    def __init__(self, port: int) -> None:
        from django.test import override_settings

        self._o = override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                                    EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False)

    def __enter__(self) -> None:
        self._o.enable()

    def __exit__(self, *exc: object) -> None:
        self._o.disable()

