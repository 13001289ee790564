"""Fixtures of the mail-probe tests: an e-mail service of customer A with a mail domain, the real
mail servers (tests.mailservers: dovecot + aiosmtpd on 127.0.0.1) and a probe mailbox on them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mailservice.models import MailDomain, MailPlatform
from monitoring.models import Mailbox
from monitoring.services import mailbox_save
from tests import factories as f
from tests.mailservers import MailServers

from .mailfixtures import ADDRESS, PASSWORD, STEP, T, mailbox_data


@pytest.fixture
def mail_servers():
    s = MailServers({ADDRESS: PASSWORD}).start()
    yield s
    s.stop()


@pytest.fixture
def email_service(customer_a, engineer):
    contract = f.ContractFactory(customer=customer_a, monthly_fee=Decimal("1200.00"))
    f.AuthorizedContactFactory(customer=customer_a, channels=["email"])
    service = f.ServiceFactory(contract=contract, engineer=engineer, kind="email", name="企业邮箱")
    MailDomain.objects.create(domain="alpha-mail.test", service=service,
                              platform=MailPlatform.objects.create(name="mx-test"))
    return service


@pytest.fixture
def mailbox(email_service, engineer, mail_servers) -> Mailbox:
    return mailbox_save(service=email_service, data=mailbox_data(mail_servers), actor=engineer, now=T - STEP)
