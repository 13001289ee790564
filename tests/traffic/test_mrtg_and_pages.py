"""The MRTG traffic view (customer's MRTG user name and password, no portal account) and the
portal pages and API: the owner sees its ports, staff all, another customer 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from operations.services import phone_max_failures
from tests import factories as f
from traffic.models import MrtgLoginAttempt, SwitchPort


def _port_of(customer) -> SwitchPort:  # type: ignore[no-untyped-def]
    service = f.ServiceFactory(contract__customer=customer)
    return SwitchPort.objects.create(service=service, device_address="192.0.2.7", interface="3")


def _login(client: Client, username: str, password: str, ip: str = "198.51.100.9"):  # type: ignore[no-untyped-def]
    return client.post(reverse("traffic:mrtg-login"), {"username": username, "password": password},
                       REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_mrtg_login_opens_only_that_customers_traffic(customer_a, charlie):
    f.AuthorizedContactFactory(customer=customer_a, mrtg_username="alpha-mrtg", secret="right-one")
    mine = _port_of(customer_a)
    theirs = _port_of(charlie.customer_link.customer)
    c = Client()
    assert c.get(reverse("traffic:mrtg-port", args=[mine.pk])).status_code == 302  # not signed in
    r = _login(c, "alpha-mrtg", "right-one")
    assert r.status_code == 302 and r["Location"] == reverse("traffic:mrtg-view")
    assert mine.service.name in c.get(reverse("traffic:mrtg-view")).content.decode()
    assert c.get(reverse("traffic:mrtg-port", args=[mine.pk])).status_code == 200
    assert c.get(reverse("traffic:mrtg-data", args=[mine.pk, "year"])).json()["port"] == mine.pk
    assert c.get(reverse("traffic:mrtg-port", args=[theirs.pk])).status_code == 404
    assert c.get(reverse("traffic:mrtg-data", args=[theirs.pk, "day"])).status_code == 404
    # Read-only: the MRTG session is no portal login.
    assert c.get(reverse("traffic:detail", args=[mine.pk])).status_code == 302


@pytest.mark.django_db
def test_wrong_mrtg_password_is_refused_counted_and_locks_after_the_limit(customer_a):
    f.AuthorizedContactFactory(customer=customer_a, mrtg_username="alpha-mrtg", secret="right-one")
    c = Client()
    r = _login(c, "alpha-mrtg", "wrong")
    assert r.status_code == 200 and "traffic_mrtg" not in c.session
    assert MrtgLoginAttempt.objects.filter(customer=customer_a, ok=False).count() == 1
    for n in range(phone_max_failures() - 1):
        _login(c, "alpha-mrtg", "wrong", ip=f"198.51.100.{20 + n}")
    # Locked now: even the right password is refused (the same limit as phone authorization).
    r = _login(c, "alpha-mrtg", "right-one", ip="198.51.100.99")
    assert r.status_code == 403
    assert "traffic_mrtg" not in c.session


@pytest.mark.django_db
def test_mrtg_login_is_rate_limited_per_client_address(customer_a, settings):
    settings.TRAFFIC_MRTG_RATE_PER_MINUTE = 3
    c = Client()
    for _ in range(3):
        assert _login(c, "nobody", "x").status_code == 200
    assert _login(c, "nobody", "x").status_code == 429


@pytest.mark.django_db
def test_portal_pages_and_api_scope(alice, charlie, customer_a, engineer):
    mine = _port_of(customer_a)
    for user, code in ((alice, 200), (engineer, 200), (charlie, 404)):
        c = Client()
        c.force_login(user)
        assert c.get(reverse("traffic:detail", args=[mine.pk])).status_code == code
        assert c.get(reverse("traffic:data", args=[mine.pk, "week"])).status_code == code
        assert c.get(f"/api/switch-ports/{mine.pk}/traffic/month/").status_code == code
    c = Client()
    c.force_login(alice)
    assert c.get(reverse("traffic:edit", args=[mine.pk])).status_code == 403  # customers read only
    page = c.get(reverse("traffic:detail", args=[mine.pk])).content.decode()
    assert "vendor/uplot/uPlot.iife.min.js" in page and "cdn" not in page.lower()


@pytest.mark.django_db
def test_staff_api_creates_a_port_with_sealed_community_never_shown(engineer, customer_a):
    service = f.ServiceFactory(contract__customer=customer_a)
    c = Client()
    c.force_login(engineer)
    r = c.post("/api/switch-ports/", {"service": service.pk, "device_address": "192.0.2.9",
                                      "interface": "Gi0/9", "snmp_version": "v2c", "community": "s3cret"},
               content_type="application/json")
    assert r.status_code == 201, r.content
    assert "s3cret" not in r.content.decode()
    port = SwitchPort.objects.get(pk=r.json()["id"])
    assert port.community_sealed and "s3cret" not in port.community_sealed
    from audit.models import AuditEntry  # noqa: PLC0415

    assert "s3cret" not in str(list(AuditEntry.objects.values_list("data", flat=True)))


@pytest.mark.django_db
def test_wrong_web_passwords_lock_phone_authorization_too(customer_a, engineer):  # type: ignore[no-untyped-def]
    """One lock for every channel that checks the MRTG secret: wrong passwords on the web view and
    on the phone add up, the lock is recorded (with its alert) and the phone is refused too."""
    from operations.choices import PhoneAttemptResult
    from operations.models import PhoneAuthLock
    from operations.services import operation_create, phone_authorization_attempt

    contact = f.AuthorizedContactFactory(customer=customer_a, mrtg_username="alpha-mrtg", secret="right-one")
    service = f.ServiceFactory(contract__customer=customer_a)
    op = operation_create(service=service, requested_by=contact, title="重启", description="d", actor=engineer)
    c = Client()
    phone = phone_authorization_attempt(operation_id=op.pk, contact=contact, mrtg_username="alpha-mrtg",
                                        mrtg_password="wrong", actor=engineer)
    assert phone.result == PhoneAttemptResult.UNAUTHORIZED and not PhoneAuthLock.objects.exists()
    for n in range(phone_max_failures() - 1):
        _login(c, "alpha-mrtg", "wrong", ip=f"198.51.100.{40 + n}")
    lock = PhoneAuthLock.objects.get(customer=customer_a)
    assert lock.failures == phone_max_failures() and lock.triggered_by is None
    right = phone_authorization_attempt(operation_id=op.pk, contact=contact, mrtg_username="alpha-mrtg",
                                        mrtg_password="right-one", actor=engineer)
    assert right.result == PhoneAttemptResult.LOCKED
    assert _login(c, "alpha-mrtg", "right-one", ip="198.51.100.99").status_code == 403
