"""The installation workflow (C3, seed 000 §3): an order per hosting service with its checklist,
opened when the service is created; completion meets C3 by the third working day after signing;
later, the installation-fee refund is proposed once per contract; a customer-caused pause moves
the deadline; refusals change nothing; only engineers and managers act."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from audit.models import AuditEntry
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from customers.models import Contract
from customers.services import contract_create
from orders import services
from orders.choices import OrderState
from orders.models import InstallationOrder
from orders.selectors import order_c3_clock, order_list
from sla.choices import ClockState
from sla.models import Clock
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f

from .conftest import DAY3, DAY4, DUE, SIGNED, TZ

pytestmark = pytest.mark.django_db


def entries(order: InstallationOrder, action: str | None = None) -> list[AuditEntry]:
    qs = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(InstallationOrder),
                                   object_id=order.pk).order_by("at", "id")
    return list(qs.filter(action=action) if action else qs)


def refunds(contract: Contract) -> list[Credit]:
    return list(Credit.objects.filter(contract=contract, policy__code="C3"))


def tick_all(order: InstallationOrder, actor, at: datetime) -> None:  # type: ignore[no-untyped-def]
    for code in order.items.values_list("code", flat=True):
        services.order_item_done(order_id=order.pk, item_code=code, actor=actor, note="ok", now=at)


# --- Opening ---------------------------------------------------------------------------------

def test_a_contract_alone_starts_no_clock(contract_a):
    assert not Clock.objects.filter(contract=contract_a).exists()
    assert not InstallationOrder.objects.exists()


@pytest.mark.parametrize(("kind", "items"), [
    ("rental", ["hardware", "software", "power", "network"]),
    ("colocation", ["power", "network"]),
    ("rack", ["power", "network"]),
])
def test_a_new_service_opens_its_order_with_the_checklist_of_its_kind(contract_a, new_service, engineer,
                                                                       kind, items):
    service = new_service(contract_a, kind)
    order = InstallationOrder.objects.get(service=service)
    assert (order.contract, order.customer, order.state) == (contract_a, contract_a.customer, OrderState.OPEN)
    assert list(order.items.values_list("code", flat=True)) == items
    clock = order_c3_clock(order)
    # Created the day it was signed: the clock counts from the signing, due 24:00 of the third
    # working day after it, assigned to the service's engineer.
    assert (clock.state, clock.started_at, clock.due_at) == (ClockState.RUNNING, SIGNED, DUE)
    assert clock.assignee == engineer and clock.contract == contract_a
    assert entries(order, "create")[0].data["items"] == items


def test_an_email_service_gets_no_installation_order(contract_a, new_service):
    service = new_service(contract_a, "email")
    assert not InstallationOrder.objects.filter(service=service).exists()
    assert not Clock.objects.filter(policy__code="C3").exists()


def test_a_service_added_after_the_first_window_counts_from_when_it_was_added(contract_a, new_service):
    added = datetime(2026, 3, 10, 15, 0, tzinfo=TZ)  # Tuesday, after the first window ended
    order = InstallationOrder.objects.get(service=new_service(contract_a, "rack", now=added))
    clock = order_c3_clock(order)
    assert clock.started_at == added
    assert clock.due_at == datetime(2026, 3, 14, 0, 0, tzinfo=TZ)  # Wed 11, Thu 12, Fri 13


def test_a_service_added_inside_the_first_window_counts_from_the_signing(contract_a, new_service):
    order = InstallationOrder.objects.get(service=new_service(contract_a, now=DAY3))
    assert order_c3_clock(order).started_at == SIGNED


def test_opening_twice_gives_the_same_order(order_a):
    again = services.order_open_for_service(service_id=order_a.service_id)
    assert again == order_a
    assert InstallationOrder.objects.count() == 1 and Clock.objects.filter(policy__code="C3").count() == 1


def test_a_service_saved_again_opens_nothing_new(order_a, django_capture_on_commit_callbacks, manager):
    from customers.services import service_save

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        service_save(data={"name": "改名"}, service=order_a.service, actor=manager)
    assert callbacks == [] and InstallationOrder.objects.count() == 1


# --- Completion and C3 -----------------------------------------------------------------------

def test_completed_on_the_third_working_day_meets_c3(sweep, order_a, engineer):
    tick_all(order_a, engineer, DAY3 - timedelta(hours=2))
    order = services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True,
                                    note="上架、加电、联网完成", now=DAY3)
    assert (order.state, order.completed_at, order.completed_by) == (OrderState.COMPLETED, DAY3, engineer)
    clock = order_c3_clock(order)
    assert (clock.state, clock.met_at) == (ClockState.MET, DAY3)
    sweep(now=DAY4)
    assert order_c3_clock(order).state == ClockState.MET
    assert refunds(order.contract) == []
    assert entries(order, "complete")[0].reason == "上架、加电、联网完成"


def test_completed_on_the_fourth_working_day_proposes_the_installation_fee_refund(sweep, order_a, engineer):
    sweep(now=DUE)  # the deadline passes: the promise is broken now
    [credit] = refunds(order_a.contract)
    assert (credit.kind, credit.amount, credit.state) == (CreditKind.REFUND_INSTALLATION, Decimal("500.00"),
                                                          CreditState.PROPOSED)
    clock = order_c3_clock(order_a)
    assert clock.state == ClockState.BREACHED and credit.evidence == clock
    assert credit.period == DUE.date() and credit.note.startswith("初装未在")
    assert credit.dedupe_key == f"C3:refund:contract:{order_a.contract_id}"
    tick_all(order_a, engineer, DAY4)
    services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True, now=DAY4)
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED and clock.completed_at == DAY4
    assert len(refunds(order_a.contract)) == 1
    assert len(entries(order_a, "refund_proposed")) == 1


def test_completed_late_before_any_sweep_still_proposes_the_refund(sweep, order_a, engineer):
    tick_all(order_a, engineer, DAY4)
    services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True, now=DAY4)
    [credit] = refunds(order_a.contract)
    assert credit.amount == Decimal("500.00")
    clock = order_c3_clock(order_a)
    assert clock.state != ClockState.MET  # late is never "met"
    sweep(now=DAY4 + timedelta(minutes=1))
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED and clock.completed_at == DAY4
    assert len(refunds(order_a.contract)) == 1


def test_one_refund_per_contract_however_many_orders_are_late(sweep, contract_a, new_service):
    first = InstallationOrder.objects.get(service=new_service(contract_a, "rental"))
    second = InstallationOrder.objects.get(service=new_service(contract_a, "rack"))
    result = sweep(now=DUE)
    assert {order_c3_clock(first).pk, order_c3_clock(second).pk} <= set(result.breached)
    assert len(refunds(contract_a)) == 1
    assert len(entries(first, "refund_proposed")) == 1 and len(entries(second, "refund_proposed")) == 1


def test_no_installation_fee_no_credit_but_the_fact_is_audited(sweep, customer_a, manager, new_service):
    contract = contract_create(customer=customer_a, number="HT-A-FREE", signed_at=SIGNED,
                               monthly_fee=Decimal("1000.00"), installation_fee=Decimal("0.00"),
                               actor=manager, now=SIGNED)
    order = InstallationOrder.objects.get(service=new_service(contract))
    sweep(now=DUE)
    assert refunds(contract) == []
    [entry] = entries(order, "refund_none")
    assert "0.00" in entry.reason


def test_completion_recorded_in_time_after_the_sweep_withdraws_the_refund(
        sweep, order_a, engineer, django_capture_on_commit_callbacks):
    tick_all(order_a, engineer, DAY3)
    sweep(now=DUE)
    [credit] = refunds(order_a.contract)
    # The engineer finished at 23:00 on the third working day and records it with that time.
    with django_capture_on_commit_callbacks(execute=True):
        services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True,
                                now=DUE - timedelta(hours=1))
    assert order_c3_clock(order_a).state == ClockState.MET
    credit.refresh_from_db()
    assert credit.state == CreditState.WITHDRAWN
    assert len(entries(order_a, "refund_withdrawn")) == 1


def test_completed_exactly_at_the_deadline_is_late(order_a, engineer):
    tick_all(order_a, engineer, DAY3)
    services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True, now=DUE)
    clock = order_c3_clock(order_a)
    assert clock.state == ClockState.BREACHED and clock.completed_at == DUE
    assert len(refunds(order_a.contract)) == 1


def test_the_refund_stays_while_another_order_of_the_contract_is_late(
        sweep, contract_a, new_service, engineer, django_capture_on_commit_callbacks):
    first = InstallationOrder.objects.get(service=new_service(contract_a, "rack"))
    InstallationOrder.objects.get(service=new_service(contract_a, "colocation"))
    sweep(now=DUE)
    tick_all(first, engineer, DAY3)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_complete(order_id=first.pk, actor=engineer, confirm=True, now=DAY3)
    assert order_c3_clock(first).state == ClockState.MET
    [credit] = refunds(contract_a)
    assert credit.state == CreditState.PROPOSED


# --- Pause -----------------------------------------------------------------------------------

def test_a_customer_caused_pause_moves_the_deadline(sweep, order_a, engineer):
    paused = datetime(2026, 3, 3, 9, 0, tzinfo=TZ)
    resumed = paused + timedelta(days=2)
    order = services.order_pause(order_id=order_a.pk, reason_code="customer_equipment_missing",
                                 note="客户服务器未到货", actor=engineer, now=paused)
    assert order.state == OrderState.PAUSED and order.pause_reason == "customer_equipment_missing"
    assert order_c3_clock(order).state == ClockState.PAUSED
    sweep(now=DUE + timedelta(hours=1))  # a paused clock is not breached
    assert order_c3_clock(order).state == ClockState.PAUSED
    services.order_resume(order_id=order.pk, actor=engineer, note="设备已到", now=resumed)
    clock = order_c3_clock(order)
    assert clock.state == ClockState.RUNNING and clock.due_at == DUE + timedelta(days=2)
    tick_all(order_a, engineer, DAY4)
    services.order_complete(order_id=order.pk, actor=engineer, confirm=True, now=DAY4)
    assert order_c3_clock(order).state == ClockState.MET
    assert refunds(order.contract) == []
    assert entries(order, "pause")[0].data == {"cause": "customer_equipment_missing"}


def test_pause_needs_a_customer_side_cause_and_a_note(order_a, engineer):
    with pytest.raises(DomainError) as e:
        services.order_pause(order_id=order_a.pk, reason_code="engineer_busy", note=" ", actor=engineer)
    assert set(e.value.field_errors) == {"reason", "note"}
    order_a.refresh_from_db()
    assert order_a.state == OrderState.OPEN and order_c3_clock(order_a).state == ClockState.RUNNING


def test_completing_a_paused_order_resumes_then_meets_its_clock(order_a, engineer):
    tick_all(order_a, engineer, SIGNED + timedelta(hours=1))
    services.order_pause(order_id=order_a.pk, reason_code="customer_not_ready", note="等待客户",
                         actor=engineer, now=datetime(2026, 3, 4, 9, 0, tzinfo=TZ))
    services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True, now=DAY4)
    clock = order_c3_clock(order_a)
    assert clock.state == ClockState.MET and clock.due_at > DAY4


# --- Refusals change nothing -----------------------------------------------------------------

def test_completion_refused_while_items_are_not_done(order_a, engineer):
    services.order_item_done(order_id=order_a.pk, item_code="power", actor=engineer, now=DAY3)
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError) as e:
        services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True, now=DAY3)
    assert "items" in e.value.field_errors and "confirm" not in e.value.field_errors
    order_a.refresh_from_db()
    assert order_a.state == OrderState.OPEN and order_a.completed_at is None
    assert order_c3_clock(order_a).state == ClockState.RUNNING
    assert AuditEntry.objects.count() == before


def test_completion_refused_without_the_engineers_confirmation(order_a, engineer):
    tick_all(order_a, engineer, DAY3)
    with pytest.raises(DomainError) as e:
        services.order_complete(order_id=order_a.pk, actor=engineer, confirm=False, now=DAY3)
    assert set(e.value.field_errors) == {"confirm"}
    order_a.refresh_from_db()
    assert order_a.state == OrderState.OPEN


def test_ticking_an_item_twice_conflicts_and_undo_takes_it_back(order_a, engineer):
    services.order_item_done(order_id=order_a.pk, item_code="network", actor=engineer, note="光纤", now=DAY3)
    with pytest.raises(ConflictError):
        services.order_item_done(order_id=order_a.pk, item_code="network", actor=engineer, now=DAY3)
    item = services.order_item_undo(order_id=order_a.pk, item_code="network", actor=engineer, now=DAY3)
    assert item.done_at is None and item.done_by is None
    assert [e.data["item"] for e in entries(order_a) if e.action.startswith("item_")] == ["network", "network"]


def test_an_item_not_on_the_checklist_is_refused(order_a, engineer):
    with pytest.raises(DomainError):  # colocation has no server hardware
        services.order_item_done(order_id=order_a.pk, item_code="hardware", actor=engineer)


def test_a_completed_order_takes_no_more_changes(order_a, engineer, manager):
    tick_all(order_a, engineer, DAY3)
    services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True, now=DAY3)
    for call in (
        lambda: services.order_item_undo(order_id=order_a.pk, item_code="power", actor=engineer),
        lambda: services.order_pause(order_id=order_a.pk, reason_code="customer_not_ready", note="x",
                                     actor=engineer),
        lambda: services.order_resume(order_id=order_a.pk, actor=engineer),
        lambda: services.order_complete(order_id=order_a.pk, actor=engineer, confirm=True),
        lambda: services.order_cancel(order_id=order_a.pk, actor=manager, reason="x"),
    ):
        with pytest.raises(ConflictError):
            call()
    order_a.refresh_from_db()
    assert order_a.state == OrderState.COMPLETED and order_a.completed_at == DAY3


def test_resume_of_an_open_order_conflicts(order_a, engineer):
    with pytest.raises(ConflictError):
        services.order_resume(order_id=order_a.pk, actor=engineer)


def test_cancel_by_a_manager_cancels_the_clock(order_a, manager, engineer):
    with pytest.raises(ForbiddenError):
        services.order_cancel(order_id=order_a.pk, actor=engineer, reason="录入错误")
    with pytest.raises(DomainError):
        services.order_cancel(order_id=order_a.pk, actor=manager, reason="")
    order = services.order_cancel(order_id=order_a.pk, actor=manager, reason="录入错误", now=DAY3)
    assert order.state == OrderState.CANCELLED and order_c3_clock(order).state == ClockState.CANCELLED


# --- Roles -----------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["specialist", "dc_staff", "alice", "charlie"])
def test_only_engineers_and_managers_act(order_a, request, who):
    user = request.getfixturevalue(who)
    calls = [
        lambda: services.order_item_done(order_id=order_a.pk, item_code="power", actor=user),
        lambda: services.order_pause(order_id=order_a.pk, reason_code="customer_not_ready", note="x",
                                     actor=user),
        lambda: services.order_complete(order_id=order_a.pk, actor=user, confirm=True),
    ]
    for call in calls:
        with pytest.raises(ForbiddenError):
            call()
    assert not order_a.items.filter(done_at__isnull=False).exists()
    assert entries(order_a, "item_done") == [] and entries(order_a, "pause") == []


def test_a_manager_may_act_for_the_engineer(order_a, manager):
    tick_all(order_a, manager, DAY3)
    assert services.order_complete(order_id=order_a.pk, actor=manager, confirm=True, now=DAY3).completed_by == manager


# --- Selectors -------------------------------------------------------------------------------

def test_the_list_is_scoped_and_filters_overdue(order_a, order_c, alice, charlie, manager):
    assert set(order_list(user=alice)) == {order_a}
    assert set(order_list(user=charlie)) == {order_c}
    assert set(order_list(user=manager)) == {order_a, order_c}
    assert set(order_list(user=f.UserFactory())) == set()
    assert set(order_list(user=manager, overdue=True, now=DAY3)) == set()
    assert set(order_list(user=manager, overdue=True, now=DAY4)) == {order_a, order_c}
    assert set(order_list(user=manager, overdue=False, now=DAY4)) == set()
    assert set(order_list(user=manager, customer_id=order_a.customer_id)) == {order_a}
    row = order_list(user=manager).get(pk=order_a.pk)
    assert (row.c3_due_at, row.c3_state) == (DUE, ClockState.RUNNING)


def test_c3_switched_off_for_the_contract_opens_the_order_without_a_clock(contract_a, new_service):
    from sla.models import ContractPolicy, SlaPolicy

    ContractPolicy.objects.create(contract=contract_a, policy=SlaPolicy.objects.get(code="C3"), active=False,
                                  note="客户自行安装")
    order = InstallationOrder.objects.get(service=new_service(contract_a))
    assert order_c3_clock(order) is None and order.deadline_pending_year is None
    assert len(entries(order, "no_clock")) == 1


def test_a_failing_listener_never_undoes_the_service(contract_a, django_capture_on_commit_callbacks,
                                                     manager, monkeypatch):
    from customers.models import Service
    from customers.services import service_create

    def boom(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "order_open_for_service", boom)
    with django_capture_on_commit_callbacks(execute=True):
        service = service_create(contract=contract_a, kind="rack", name="机柜 X", actor=manager, now=SIGNED)
    assert Service.objects.filter(pk=service.pk).exists()
    assert not InstallationOrder.objects.exists()
    monkeypatch.undo()
    from orders.tasks import reconcile

    assert reconcile()["opened"] == 1  # the hourly task opens it
    assert order_c3_clock(InstallationOrder.objects.get(service=service)) is not None
