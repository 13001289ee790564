"""E-mail provisioning (E5, seed 002 §8 开通的保障): an order per new e-mail service, waiting for the
payment; confirming the payment starts E5-EXIST (24 h) or E5-NEW (48 h) from the payment time;
completing it meets the clock on the one boundary rule and e-mails the customer's contacts; late,
"that month's fee waived" is proposed once (withdrawn when an in-time completion is recorded
late); refusals change nothing; the roles that may act."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType

from audit.models import AuditEntry
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from notifications.models import Notification
from orders import services
from orders.choices import ProvisioningState
from orders.models import InstallationOrder, ProvisioningOrder
from orders.selectors import provisioning_clock, provisioning_list
from sla.choices import ClockState
from sla.models import Clock
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f

from .conftest import TZ

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)
H24 = timedelta(hours=24)
H48 = timedelta(hours=48)
S1 = timedelta(seconds=1)
WORK = ("dns_records", "mailboxes", "admin_handover")


def audit(order: ProvisioningOrder, action: str | None = None) -> list[AuditEntry]:
    qs = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ProvisioningOrder),
                                   object_id=order.pk).order_by("at", "id")
    return list(qs.filter(action=action) if action else qs)


def waivers(contract: Any) -> list[Credit]:
    return list(Credit.objects.filter(contract=contract, policy__code__startswith="E5").order_by("id"))


def e5_clocks(order: ProvisioningOrder) -> list[Clock]:
    return list(Clock.objects.filter(content_type=ContentType.objects.get_for_model(ProvisioningOrder),
                                     object_id=order.pk).order_by("id"))


@pytest.fixture
def contact_a(customer_a: Any) -> Any:
    return f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.example.cn")


@pytest.fixture
def email_service(contract_a: Any, new_service: Any) -> Any:
    return new_service(contract_a, "email", name="企业邮箱 A")


@pytest.fixture
def order(email_service: Any, engineer: Any) -> ProvisioningOrder:
    """The order the new e-mail service opened, with its domain entered (existing domain)."""
    o = ProvisioningOrder.objects.get(service=email_service)
    return services.provisioning_update(order_id=o.pk, domain="Alpha.Example.CN", new_domain=False,
                                        actor=engineer, now=PAID - H24)


def paid(order: ProvisioningOrder, specialist: Any, *, at: datetime = PAID) -> ProvisioningOrder:
    return services.provisioning_payment_confirm(order_id=order.pk, actor=specialist, paid_at=at,
                                                 reference="银行转账 0001", now=at)


def work_done(order: ProvisioningOrder, engineer: Any, at: datetime) -> None:
    codes = list(order.items.exclude(code="customer_notified").values_list("code", flat=True))
    for code in codes:
        services.provisioning_item_done(order_id=order.pk, item_code=code, actor=engineer, note="ok", now=at)


def complete(order: ProvisioningOrder, engineer: Any, at: datetime, *, now: datetime | None = None,
             capture: Any = None) -> ProvisioningOrder:
    work_done(order, engineer, min(at, now or at))
    if capture is None:
        return services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True,
                                              completed_at=at, now=now or at)
    with capture(execute=True):
        return services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True,
                                              completed_at=at, now=now or at)


# --- Opening ---------------------------------------------------------------------------------

def test_a_new_email_service_opens_one_order_awaiting_payment_with_no_clock(email_service, contract_a,
                                                                            new_service):
    order = ProvisioningOrder.objects.get(service=email_service)
    assert (order.state, order.contract, order.customer, order.domain) == (
        ProvisioningState.AWAITING_PAYMENT, contract_a, contract_a.customer, "")
    assert list(order.items.values_list("code", flat=True)) == [
        "dns_records", "mailboxes", "admin_handover", "customer_notified"]
    assert provisioning_clock(order) is None and not e5_clocks(order)
    assert not InstallationOrder.objects.filter(service=email_service).exists()
    # A hosting service gets an installation order and no provisioning order.
    hosting = new_service(contract_a, "colocation")
    assert not ProvisioningOrder.objects.filter(service=hosting).exists()
    # Opening again for the same service is idempotent.
    assert services.provisioning_open_for_service(service_id=email_service.pk) == order
    assert ProvisioningOrder.objects.filter(service=email_service).count() == 1


def test_staff_open_an_order_for_a_new_domain_with_its_registration_first(email_service, specialist):
    order = services.provisioning_open(service_id=email_service.pk, domain=" Beta.Example.CN. ",
                                       new_domain=True, actor=specialist, now=PAID)
    assert order.domain == "beta.example.cn" and order.created_by == specialist
    assert list(order.items.values_list("code", flat=True)) == [
        "domain_registration", "dns_records", "mailboxes", "admin_handover", "customer_notified"]
    with pytest.raises(DomainError) as e:
        services.provisioning_open(service_id=email_service.pk, domain="beta.example.cn", new_domain=False,
                                   actor=specialist, now=PAID)
    assert "domain" in e.value.field_errors


@pytest.mark.parametrize("domain", ["", "not a domain", "localhost", "a..cn", "-x.cn"])
def test_a_bad_domain_is_a_field_error_and_nothing_is_saved(email_service, specialist, domain):
    before = ProvisioningOrder.objects.count()
    with pytest.raises(DomainError) as e:
        services.provisioning_open(service_id=email_service.pk, domain=domain, new_domain=False,
                                   actor=specialist, now=PAID)
    assert "domain" in e.value.field_errors and ProvisioningOrder.objects.count() == before


def test_only_an_email_service_gets_a_provisioning_order_and_only_staff_open_one(contract_a, new_service,
                                                                                specialist, alice):
    hosting = new_service(contract_a, "rack")
    with pytest.raises(DomainError) as e:
        services.provisioning_open(service_id=hosting.pk, domain="x.cn", new_domain=False, actor=specialist)
    assert "service" in e.value.field_errors
    email = new_service(contract_a, "email")
    with pytest.raises(ForbiddenError):
        services.provisioning_open(service_id=email.pk, domain="x.cn", new_domain=False, actor=alice)


# --- Payment: the clock starts -----------------------------------------------------------------

@pytest.mark.parametrize(("new_domain", "code", "span"), [(False, "E5-EXIST", H24), (True, "E5-NEW", H48)])
def test_confirming_the_payment_starts_the_clock_of_the_domain_case(order, specialist, engineer,
                                                                    new_domain, code, span):
    services.provisioning_update(order_id=order.pk, domain=order.domain, new_domain=new_domain,
                                 actor=engineer, now=PAID - H24)
    # Recorded two hours after the money arrived: the clock counts from the payment.
    services.provisioning_payment_confirm(order_id=order.pk, actor=specialist, paid_at=PAID,
                                          reference="TX-1", now=PAID + timedelta(hours=2))
    order.refresh_from_db()
    assert order.state == ProvisioningState.IN_PROGRESS
    assert (order.payment_confirmed_at, order.payment_confirmed_by, order.payment_reference) == (
        PAID, specialist, "TX-1")
    clock = provisioning_clock(order)
    assert (clock.policy.code, clock.state, clock.started_at, clock.due_at) == (
        code, ClockState.RUNNING, PAID, PAID + span)
    assert clock.customer == order.customer and clock.contract == order.contract
    assert audit(order, "confirm_payment")[0].data["paid_at"] == PAID.isoformat()


def test_a_second_confirmation_is_refused_and_changes_nothing(order, specialist):
    paid(order, specialist)
    n_audit, n_clocks = len(audit(order)), len(e5_clocks(order))
    with pytest.raises(ConflictError):
        services.provisioning_payment_confirm(order_id=order.pk, actor=specialist,
                                              paid_at=PAID + H24, now=PAID + H24)
    order.refresh_from_db()
    assert order.payment_confirmed_at == PAID and order.state == ProvisioningState.IN_PROGRESS
    assert (len(audit(order)), len(e5_clocks(order))) == (n_audit, n_clocks)


def test_a_payment_in_the_future_is_refused(order, specialist):
    with pytest.raises(DomainError) as e:
        services.provisioning_payment_confirm(order_id=order.pk, actor=specialist,
                                              paid_at=PAID + S1, now=PAID)
    assert "paid_at" in e.value.field_errors
    order.refresh_from_db()
    assert order.state == ProvisioningState.AWAITING_PAYMENT and not e5_clocks(order)


def test_roles_payment_by_customer_service_work_by_engineers(order, engineer, specialist, alice):
    with pytest.raises(ForbiddenError):
        services.provisioning_payment_confirm(order_id=order.pk, actor=engineer, now=PAID)
    with pytest.raises(ForbiddenError):
        services.provisioning_payment_confirm(order_id=order.pk, actor=alice, now=PAID)
    paid(order, specialist)
    with pytest.raises(ForbiddenError):
        services.provisioning_item_done(order_id=order.pk, item_code="mailboxes", actor=specialist)
    with pytest.raises(ForbiddenError):
        services.provisioning_complete(order_id=order.pk, actor=specialist, confirm=True)
    with pytest.raises(ForbiddenError):
        services.provisioning_cancel(order_id=order.pk, actor=engineer, reason="x")


def test_completing_before_the_payment_is_refused_and_changes_nothing(order, engineer, contact_a):
    work_done(order, engineer, PAID)
    n_audit = len(audit(order))
    with pytest.raises(ConflictError):
        services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True, now=PAID)
    order.refresh_from_db()
    assert order.state == ProvisioningState.AWAITING_PAYMENT and order.completed_at is None
    assert len(audit(order)) == n_audit and not Notification.objects.exists()


# --- The boundary: 24 h and 48 h after the payment, to the second ------------------------------

@pytest.mark.parametrize(("new_domain", "after", "late"), [
    (False, H24 - S1, False),
    (False, H24, True),
    (False, H24 + S1, True),
    (True, H24 + S1, False),
    (True, H48 - S1, False),
    (True, H48 + S1, True),
])
def test_completion_meets_strictly_before_the_deadline(order, specialist, engineer, contact_a,
                                                       new_domain, after, late):
    services.provisioning_update(order_id=order.pk, domain=order.domain, new_domain=new_domain,
                                 actor=engineer, now=PAID - H24)
    paid(order, specialist)
    complete(order, engineer, PAID + after)
    clock = provisioning_clock(order)
    assert clock.state == (ClockState.BREACHED if late else ClockState.MET)
    assert clock.completed_at == PAID + after
    credits = waivers(order.contract)
    assert len(credits) == (1 if late else 0)


def test_an_existing_domain_completed_after_24_h_1_s_proposes_the_fee_waiver(order, specialist, engineer,
                                                                             contact_a):
    """Acceptance (issue 12): 24 h 1 s after the payment, the month's fee waiver is proposed."""
    paid(order, specialist)
    complete(order, engineer, PAID + H24 + S1)
    [credit] = waivers(order.contract)
    assert (credit.kind, credit.state, credit.amount, credit.period) == (
        CreditKind.WAIVE_MONTH_RENT, CreditState.PROPOSED, Decimal("3100.00"), date(2026, 3, 1))
    assert credit.policy.code == "E5-EXIST" and credit.evidence == provisioning_clock(order)
    assert "免收当月之费用" in credit.note and "alpha.example.cn" in credit.note
    assert audit(order, "waiver_proposed")[0].data["credit"] == credit.pk


def test_the_waiver_is_proposed_once_by_the_sweep_and_not_again_at_completion(
        order, specialist, engineer, contact_a, sweep, django_capture_on_commit_callbacks):
    paid(order, specialist)
    result = sweep(PAID + H24)  # the deadline passes with the order still open
    assert provisioning_clock(order).pk in result.breached
    [credit] = waivers(order.contract)
    complete(order, engineer, PAID + H24 + timedelta(hours=3), capture=django_capture_on_commit_callbacks)
    assert waivers(order.contract) == [credit] and len(audit(order, "waiver_proposed")) == 1
    clock = provisioning_clock(order)
    assert clock.state == ClockState.BREACHED and clock.completed_at == PAID + H24 + timedelta(hours=3)


def test_two_late_orders_of_a_contract_in_one_month_waive_its_fee_once(order, email_service, specialist,
                                                                      engineer, contact_a):
    second = services.provisioning_open(service_id=email_service.pk, domain="beta.example.cn",
                                        new_domain=False, actor=specialist, now=PAID)
    for o in (order, second):
        paid(o, specialist)
        complete(o, engineer, PAID + H24 + S1)
    assert len(waivers(order.contract)) == 1


def test_a_completion_in_time_recorded_after_the_sweep_withdraws_the_waiver(
        order, specialist, engineer, contact_a, sweep, django_capture_on_commit_callbacks):
    paid(order, specialist)
    sweep(PAID + H24 + timedelta(minutes=5))
    [credit] = waivers(order.contract)
    # The engineer finished at 24 h − 1 s and records it an hour later: met, recorded late.
    complete(order, engineer, PAID + H24 - S1, now=PAID + H24 + timedelta(hours=1),
             capture=django_capture_on_commit_callbacks)
    clock = provisioning_clock(order)
    assert clock.state == ClockState.MET and clock.breached_at is not None
    credit.refresh_from_db()
    assert credit.state == CreditState.WITHDRAWN
    assert audit(order, "waiver_withdrawn")[0].data["credit"] == credit.pk


def test_no_monthly_fee_no_waiver_but_the_audit_says_why(order, specialist, engineer, contact_a):
    order.contract.monthly_fee = Decimal("0.00")
    order.contract.save()
    paid(order, specialist)
    complete(order, engineer, PAID + H24 + S1)
    assert waivers(order.contract) == [] and len(audit(order, "waiver_none")) == 1


# --- Changing the kind of domain restarts the right clock ---------------------------------------

def test_a_new_domain_found_after_the_payment_restarts_the_48_h_clock_from_the_payment(order, specialist,
                                                                                      engineer):
    paid(order, specialist)
    first = provisioning_clock(order)
    with pytest.raises(DomainError) as e:  # a reason is required after the payment
        services.provisioning_update(order_id=order.pk, domain=order.domain, new_domain=True,
                                     actor=engineer, now=PAID + timedelta(hours=5))
    assert "reason" in e.value.field_errors
    services.provisioning_update(order_id=order.pk, domain=order.domain, new_domain=True, actor=engineer,
                                 reason="客户尚未注册该域名", now=PAID + timedelta(hours=5))
    first.refresh_from_db()
    assert first.state == ClockState.CANCELLED
    clock = provisioning_clock(order)
    assert (clock.policy.code, clock.state, clock.started_at, clock.due_at) == (
        "E5-NEW", ClockState.RUNNING, PAID, PAID + H48)
    assert order.items.filter(code="domain_registration").exists()
    # And back: 24 h from the same payment again, the registration item dropped.
    services.provisioning_update(order_id=order.pk, domain=order.domain, new_domain=False, actor=engineer,
                                 reason="域名已在客户名下", now=PAID + timedelta(hours=6))
    clock = provisioning_clock(order)
    assert (clock.policy.code, clock.due_at) == ("E5-EXIST", PAID + H24)
    assert not order.items.filter(code="domain_registration").exists()
    assert [c.state for c in e5_clocks(order)] == [ClockState.CANCELLED, ClockState.CANCELLED,
                                                   ClockState.RUNNING]


def test_the_kind_cannot_change_once_its_deadline_was_breached(order, specialist, engineer, sweep):
    paid(order, specialist)
    sweep(PAID + H24)
    with pytest.raises(ConflictError):
        services.provisioning_update(order_id=order.pk, domain=order.domain, new_domain=True, actor=engineer,
                                     reason="x", now=PAID + H24 + S1)
    order.refresh_from_db()
    assert order.new_domain is False and len(e5_clocks(order)) == 1


# --- Completion tells the customer's contacts --------------------------------------------------

def test_completion_emails_every_contact_in_force_in_chinese_and_ticks_customer_notified(
        order, customer_a, specialist, engineer, contact_a):
    second = f.AuthorizedContactFactory(customer=customer_a, name="李工", email="li@alpha.example.cn",
                                        priority=2)
    f.AuthorizedContactFactory(customer=customer_a, email="gone@alpha.example.cn", active=False)
    f.AuthorizedContactFactory(customer=customer_a, email="", channels=["mobile"])
    f.AuthorizedContactFactory(email="other@charlie.example.cn")  # another customer's
    paid(order, specialist)
    complete(order, engineer, PAID + timedelta(hours=3))
    rows = list(Notification.objects.filter(kind="provisioning_completed").order_by("address"))
    assert [n.address for n in rows] == ["li@alpha.example.cn", "wang@alpha.example.cn"]
    assert all(n.channel == "email" and n.status == "pending" for n in rows)
    n = next(r for r in rows if r.address == contact_a.email)
    assert "alpha.example.cn" in n.subject and "开通" in n.subject
    assert "王经理" in n.body and contact_a.customer.contracts.first().number in n.body
    assert "2026-03-10 12:00" in n.body  # the completion time, local
    assert n.related == order
    item = order.items.get(code="customer_notified")
    assert item.done and "wang@alpha.example.cn" in item.note and second.email in item.note
    assert audit(order, "notify")[0].data["addresses"] == ["wang@alpha.example.cn", "li@alpha.example.cn"]


def test_an_english_contact_gets_the_notice_in_english(order, customer_a, specialist, engineer):
    f.AuthorizedContactFactory(customer=customer_a, email="amy@alpha.example.cn", language="en")
    paid(order, specialist)
    complete(order, engineer, PAID + timedelta(hours=1))
    n = Notification.objects.get(kind="provisioning_completed")
    assert n.subject == "Your enterprise e-mail service for alpha.example.cn is open"


def test_no_contact_with_an_address_refuses_completion_until_the_customer_is_told_otherwise(
        order, specialist, engineer):
    paid(order, specialist)
    work_done(order, engineer, PAID + S1)
    with pytest.raises(DomainError) as e:
        services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True, now=PAID + H24 - S1)
    assert "items" in e.value.field_errors
    order.refresh_from_db()
    assert order.state == ProvisioningState.IN_PROGRESS and provisioning_clock(order).state == ClockState.RUNNING
    services.provisioning_item_done(order_id=order.pk, item_code="customer_notified", actor=engineer,
                                    note="电话通知", now=PAID + H24 - S1)
    services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True, now=PAID + H24 - S1)
    assert provisioning_clock(order).state == ClockState.MET and not Notification.objects.exists()


def test_completion_needs_the_domain_every_item_and_the_confirmation(email_service, specialist, engineer,
                                                                    contact_a):
    order = ProvisioningOrder.objects.get(service=email_service)
    paid(order, specialist)
    with pytest.raises(DomainError) as e:
        services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=False, now=PAID + S1)
    assert {"domain", "items", "confirm"} <= set(e.value.field_errors)
    order.refresh_from_db()
    assert order.state == ProvisioningState.IN_PROGRESS and not Notification.objects.exists()


def test_a_completion_time_before_the_payment_or_in_the_future_is_refused(order, specialist, engineer,
                                                                         contact_a):
    paid(order, specialist)
    work_done(order, engineer, PAID + S1)
    for at, now in ((PAID - S1, PAID + H24), (PAID + timedelta(hours=2), PAID + timedelta(hours=1))):
        with pytest.raises(DomainError) as e:
            services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True, completed_at=at,
                                           now=now)
        assert "completed_at" in e.value.field_errors
    order.refresh_from_db()
    assert order.state == ProvisioningState.IN_PROGRESS


# --- Checklist and cancellation ------------------------------------------------------------------

def test_items_are_ticked_and_taken_back_and_refused_on_a_closed_order(order, specialist, engineer,
                                                                      manager):
    item = services.provisioning_item_done(order_id=order.pk, item_code="mailboxes", actor=engineer,
                                           note="50 个邮箱", now=PAID)
    assert (item.done_at, item.done_by, item.note) == (PAID, engineer, "50 个邮箱")
    with pytest.raises(ConflictError):
        services.provisioning_item_done(order_id=order.pk, item_code="mailboxes", actor=engineer, now=PAID)
    with pytest.raises(DomainError):
        services.provisioning_item_done(order_id=order.pk, item_code="domain_registration", actor=engineer)
    services.provisioning_item_undo(order_id=order.pk, item_code="mailboxes", actor=engineer, now=PAID)
    assert not order.items.get(code="mailboxes").done
    services.provisioning_cancel(order_id=order.pk, actor=manager, reason="客户撤单", now=PAID)
    with pytest.raises(ConflictError):
        services.provisioning_item_done(order_id=order.pk, item_code="mailboxes", actor=engineer)


def test_a_manager_cancels_with_a_reason_and_the_clock_is_cancelled(order, specialist, manager, engineer,
                                                                   contact_a):
    paid(order, specialist)
    with pytest.raises(DomainError):
        services.provisioning_cancel(order_id=order.pk, actor=manager, reason="  ")
    services.provisioning_cancel(order_id=order.pk, actor=manager, reason="客户未开通", now=PAID + H24 - S1)
    order.refresh_from_db()
    assert (order.state, order.cancel_reason, order.cancelled_at) == (
        ProvisioningState.CANCELLED, "客户未开通", PAID + H24 - S1)
    assert provisioning_clock(order).state == ClockState.CANCELLED
    n_audit = len(audit(order))
    for call in (lambda: services.provisioning_cancel(order_id=order.pk, actor=manager, reason="again"),
                 lambda: services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True)):
        with pytest.raises(ConflictError):
            call()
    assert len(audit(order)) == n_audit
    # A cancelled order frees its domain for a new one.
    again = services.provisioning_open(service_id=order.service_id, domain=order.domain, new_domain=False,
                                       actor=specialist)
    assert again.pk != order.pk


def test_a_completed_order_cannot_be_cancelled(order, specialist, engineer, manager, contact_a):
    paid(order, specialist)
    complete(order, engineer, PAID + H24 - S1)
    with pytest.raises(ConflictError):
        services.provisioning_cancel(order_id=order.pk, actor=manager, reason="x")
    order.refresh_from_db()
    assert order.state == ProvisioningState.COMPLETED


def test_the_queue_shows_open_orders_with_the_deadline_and_filters_overdue(order, email_service, specialist,
                                                                          manager):
    other = services.provisioning_open(service_id=email_service.pk, domain="gamma.example.cn",
                                       new_domain=True, actor=specialist, now=PAID)
    paid(order, specialist)
    rows = {o.pk: o for o in provisioning_list(user=manager, open_only=True)}
    assert set(rows) == {order.pk, other.pk}
    assert (rows[order.pk].e5_due_at, rows[order.pk].e5_policy) == (PAID + H24, "E5-EXIST")
    assert rows[other.pk].e5_due_at is None
    late = provisioning_list(user=manager, overdue=True, now=PAID + H24)
    assert [o.pk for o in late] == [order.pk]
    assert [o.pk for o in provisioning_list(user=manager, overdue=True, now=PAID + H24 - S1)] == []
