"""Probe mailboxes: the sealed password round-trips and is not the plaintext; it never appears in
pages, API responses or audit rows; only engineers and managers add one, only to an e-mail
service; another customer gets 404."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEntry
from monitoring.models import Mailbox
from monitoring.sealing import UnsealError, seal, unseal
from monitoring.services import mailbox_save
from slaportal.errors import DomainError, ForbiddenError
from tests import factories as f

from .mailfixtures import PASSWORD

DATA = {"address": "probe@alpha-mail.test", "password": PASSWORD, "smtp_host": "smtp.alpha-mail.test",
        "smtp_port": 587, "imap_host": "imap.alpha-mail.test", "imap_port": 993}


@pytest.fixture
def email_service(customer_a, engineer):
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), engineer=engineer, kind="email")


@pytest.fixture
def mailbox(email_service, engineer):
    return mailbox_save(service=email_service, data=dict(DATA), actor=engineer)


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_sealed_password_round_trips_and_is_not_the_plaintext(mailbox, settings, monkeypatch):
    stored = Mailbox.objects.get(pk=mailbox.pk).password_sealed
    assert PASSWORD not in stored and unseal(stored) == PASSWORD
    assert seal(PASSWORD) != seal(PASSWORD)          # a fresh IV each time
    monkeypatch.setenv("SLAPORTAL_SEAL_KEY", "another key")
    with pytest.raises(UnsealError):
        unseal(stored)


def test_blank_password_keeps_the_stored_one(mailbox, engineer):
    before = Mailbox.objects.get(pk=mailbox.pk).password_sealed
    mailbox_save(service=mailbox.service, data={"password": "", "smtp_port": 465}, actor=engineer, mailbox=mailbox)
    after = Mailbox.objects.get(pk=mailbox.pk)
    assert after.password_sealed == before and after.smtp_port == 465


def test_only_engineers_and_managers_and_only_on_e_mail_services(email_service, alice, specialist, engineer):
    with pytest.raises(ForbiddenError):
        mailbox_save(service=email_service, data=dict(DATA), actor=alice)
    with pytest.raises(ForbiddenError):
        mailbox_save(service=email_service, data=dict(DATA), actor=specialist)
    hosting = f.ServiceFactory(contract=email_service.contract, kind="colocation")
    with pytest.raises(DomainError) as e:
        mailbox_save(service=hosting, data=dict(DATA), actor=engineer)
    assert "service" in e.value.field_errors
    with pytest.raises(DomainError) as e:
        mailbox_save(service=email_service, data={**DATA, "password": ""}, actor=engineer)
    assert "password" in e.value.field_errors


def test_password_never_in_pages_api_or_audit(mailbox, alice, engineer, email_service):
    for url in ("/monitoring/mailboxes/", f"/monitoring/mailboxes/{mailbox.pk}/",
                f"/monitoring/mailboxes/{mailbox.pk}/edit/", "/monitoring/"):
        r = web(engineer).get(url)
        assert r.status_code == 200 and PASSWORD not in r.content.decode(), url
    page = web(alice).get(f"/monitoring/mailboxes/{mailbox.pk}/").content.decode()
    assert mailbox.address in page and PASSWORD not in page
    sealed = Mailbox.objects.get(pk=mailbox.pk).password_sealed
    assert sealed not in page

    r = api(engineer).post("/api/mailboxes/", {**DATA, "address": "second@alpha-mail.test",
                                               "service": email_service.pk}, format="json")
    assert r.status_code == 201, r.content
    assert PASSWORD not in r.content.decode() and r.json()["password_set"] is True
    assert {c["kind"] for c in r.json()["checks"]} == {"submission", "imap", "mailloop"}
    for body in (api(alice).get("/api/mailboxes/").content, api(alice).get(f"/api/mailboxes/{mailbox.pk}/").content):
        assert PASSWORD not in body.decode() and sealed not in body.decode()
    r = api(engineer).patch(f"/api/mailboxes/{mailbox.pk}/", {"password": "N3w-pass"}, format="json")
    assert r.status_code == 200 and "N3w-pass" not in r.content.decode()

    audit = json.dumps(list(AuditEntry.objects.values("data", "reason")), default=str)
    assert PASSWORD not in audit and "N3w-pass" not in audit and sealed not in audit
    assert '"password": "changed"' in audit


def test_form_adds_a_mailbox_and_keeps_the_password_write_only(engineer, email_service):
    r = web(engineer).post("/monitoring/mailboxes/new/", {
        "service": email_service.pk, "address": "form@alpha-mail.test", "password": PASSWORD,
        "smtp_host": "smtp.alpha-mail.test", "smtp_port": 587, "smtp_security": "starttls",
        "imap_host": "", "imap_port": 993, "imap_security": "tls", "pop3_host": "", "pop3_port": 995,
        "pop3_security": "tls", "webmail_url": "", "webmail_expected_status": 200, "interval_seconds": 300,
        "timeout_seconds": 60, "active": "on"})
    assert r.status_code == 302, r.content.decode()[:3000]
    mb = Mailbox.objects.get(address="form@alpha-mail.test")
    assert unseal(mb.password_sealed) == PASSWORD
    edit = web(engineer).get(f"/monitoring/mailboxes/{mb.pk}/edit/").content.decode()
    assert PASSWORD not in edit and 'type="password"' in edit


def test_another_customer_gets_404_and_customers_cannot_edit(mailbox, charlie, alice):
    assert web(charlie).get(f"/monitoring/mailboxes/{mailbox.pk}/").status_code == 404
    assert web(charlie).get(f"/monitoring/mailboxes/{mailbox.pk}/edit/").status_code == 404
    assert api(charlie).get(f"/api/mailboxes/{mailbox.pk}/").status_code == 404
    assert api(charlie).patch(f"/api/mailboxes/{mailbox.pk}/", {"active": False}, format="json").status_code == 404
    body = api(charlie).get("/api/mailboxes/").json()
    assert (body["results"] if isinstance(body, dict) else body) == []
    assert web(alice).get(f"/monitoring/mailboxes/{mailbox.pk}/edit/").status_code == 403
    assert api(alice).patch(f"/api/mailboxes/{mailbox.pk}/", {"active": False}, format="json").status_code == 403
