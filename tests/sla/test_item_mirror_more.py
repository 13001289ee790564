"""The clock fields kept on spam cases, ISC publications, installation and provisioning orders and
service requests (sla.mirrors, registered in each app's AppConfig) equal their current clocks
after every change the clock engine makes (start, pause, resume, breach, a late completion, a new
clock, cancel), also when a workflow saves the row whole after the engine wrote them; the
back-fill migrations derive them from existing clocks; the lists annotate and filter exactly as
the old per-row subqueries did (the order lists' ?overdue, with the deadline boundary); and the
list selectors no longer read sla_clock at all."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.test.utils import CaptureQueriesContext

from abuse import selectors as abuse_sel
from abuse.models import IscPublication, SpamCase
from orders import selectors as orders_sel
from orders.models import InstallationOrder, ProvisioningOrder
from servicedesk import selectors as sd_sel
from servicedesk.models import ServiceRequest
from sla import mirrors
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_cancel, clock_meet, clock_pause, clock_resume, clock_start, clocks_sweep
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)  # a Monday, a working day
H = timedelta(hours=1)
S = timedelta(seconds=1)


# --- Items and what they must keep --------------------------------------------------------

def make(model: type[models.Model], customer: Any, i: int = 0) -> Any:
    at = T0 - timedelta(minutes=i)
    if model is SpamCase:
        return SpamCase.objects.create(kind="inbound", source="staff", title=f"垃圾邮件 {i}", opened_at=at,
                                       customer=customer)
    if model is IscPublication:
        return IscPublication.objects.create(reference=f"ISC-{i}-{customer.pk}", published_at=at, recorded_at=at)
    if model is ServiceRequest:
        return ServiceRequest.objects.create(customer=customer, kind="technical", channel="portal",
                                             title=f"请求 {i}", description="d", opened_at=at)
    contract = f.ContractFactory(customer=customer)
    service = f.ServiceFactory(contract=contract, kind="colocation" if model is InstallationOrder else "email")
    if model is InstallationOrder:
        return InstallationOrder.objects.create(service=service, contract=contract, customer=customer, created_at=at)
    return ProvisioningOrder.objects.create(service=service, contract=contract, customer=customer,
                                            domain=f"d{i}.example.cn", created_at=at)


def start(item: Any, code: str, at: datetime = T0) -> Clock:
    return clock_start(subject=item, policy_code=code, customer=getattr(item, "customer", None),
                       started_at=at, now=at)


def expected(m: mirrors.Mirror, pk: int) -> dict[str, Any]:
    """What the item must keep under this registration, computed from its clocks."""
    clocks = Clock.objects.filter(content_type=ContentType.objects.get_for_model(m.model), object_id=pk,
                                  policy__code__in=m.policy_codes)
    latest = clocks.select_related("policy").order_by("-started_at", "-id").first()
    late = clocks.filter(state=ClockState.BREACHED)
    if m.overdue_rule == "owed":
        late = late.filter(completed_at__isnull=True)
    out = {m.due_at: latest.due_at if latest else None, m.state: latest.state if latest else "",
           m.overdue: late.exists()}
    extra = {"paused_at": latest.paused_at if latest else None,
             "started_at": latest.started_at if latest else None,
             "policy": latest.policy.code if latest else ""}
    out.update({f"{m.prefix}{x}": extra[x] for x in m.extra})
    return out


def stored(m: mirrors.Mirror, pk: int) -> dict[str, Any]:
    return m.model._default_manager.values(*m.fields).get(pk=pk)


def check(item: Any) -> None:
    ms = mirrors.registered(type(item))
    assert ms, type(item)
    for m in ms:
        assert stored(m, item.pk) == expected(m, item.pk), m.prefix


def current(m: mirrors.Mirror, item: Any) -> dict[str, Any]:
    return stored(m, item.pk)


# (model, policy code): every registration of the three apps.
CASES = [
    (SpamCase, "E4-RESP"), (SpamCase, "E4-RESULT"), (IscPublication, "E4-ISC"),
    (InstallationOrder, "C3"), (ProvisioningOrder, "E5-EXIST"), (ProvisioningOrder, "E5-NEW"),
    (ServiceRequest, "SR-FIRST"), (ServiceRequest, "SR-RESOLVE"),
]


def mirror_of(model: type[models.Model], code: str) -> mirrors.Mirror:
    return next(m for m in mirrors.registered(model) if code in m.policy_codes)


def test_every_app_registers_its_clocks():
    regs = {(m.model.__name__, m.prefix, m.policy_codes, m.extra, m.overdue_rule)
            for model in (SpamCase, IscPublication, InstallationOrder, ProvisioningOrder, ServiceRequest)
            for m in mirrors.registered(model)}
    assert regs == {
        ("SpamCase", "sla_resp_", ("E4-RESP",), (), "owed"),
        ("SpamCase", "sla_result_", ("E4-RESULT",), (), "owed"),
        ("IscPublication", "sla_", ("E4-ISC",), (), "owed"),
        ("InstallationOrder", "sla_", ("C3",), (), "breached"),
        ("ProvisioningOrder", "sla_", ("E5-EXIST", "E5-NEW"), ("started_at", "policy"), "breached"),
        ("ServiceRequest", "sla_first_", ("SR-FIRST",), ("paused_at",), "owed"),
        ("ServiceRequest", "sla_resolve_", ("SR-RESOLVE",), ("paused_at",), "owed"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "code"), CASES, ids=[f"{m.__name__}-{c}" for m, c in CASES])
def test_fields_follow_every_transition(customer_a, model, code):
    m = mirror_of(model, code)
    item = make(model, customer_a)
    check(item)
    assert current(m, item)[m.state] == ""

    clock = start(item, code)
    check(item)  # the other registration of the same model (if any) is untouched and still right
    assert current(m, item)[m.state] == ClockState.RUNNING
    assert current(m, item)[m.due_at] == clock.due_at

    clock_pause(clock_id=clock.pk, now=T0 + H)
    check(item)
    assert current(m, item)[m.state] == ClockState.PAUSED
    if "paused_at" in m.extra:
        assert current(m, item)[f"{m.prefix}paused_at"] == T0 + H
    clock_resume(clock_id=clock.pk, now=T0 + 2 * H)
    check(item)
    clock.refresh_from_db()
    assert current(m, item)[m.due_at] == clock.due_at  # moved by the paused span
    if "paused_at" in m.extra:
        assert current(m, item)[f"{m.prefix}paused_at"] is None

    clocks_sweep(now=clock.due_at)  # breached exactly at due_at
    check(item)
    assert (current(m, item)[m.state], current(m, item)[m.overdue]) == (ClockState.BREACHED, True)
    clock_meet(clock_id=clock.pk, now=clock.due_at + H)  # fulfilled late: still breached
    check(item)
    assert current(m, item)[m.overdue] is (m.overdue_rule == "breached")

    later = clock.due_at + 2 * H
    second = start(item, code, later)  # a new clock is the current one
    check(item)
    assert (current(m, item)[m.state], current(m, item)[m.due_at]) == (ClockState.RUNNING, second.due_at)
    if "started_at" in m.extra:
        assert current(m, item)[f"{m.prefix}started_at"] == later
    clock_cancel(clock_id=second.pk, now=later + H)
    check(item)
    assert current(m, item)[m.state] == ClockState.CANCELLED

    third = start(item, code, later + 2 * H)
    clock_meet(clock_id=third.pk, now=later + 3 * H)
    check(item)
    assert current(m, item)[m.state] == ClockState.MET


@pytest.mark.django_db
def test_provisioning_keeps_the_current_policy(customer_a):
    order = make(ProvisioningOrder, customer_a)
    first = start(order, "E5-EXIST")
    clock_cancel(clock_id=first.pk, now=T0 + H)  # the customer turned out to need a new domain
    start(order, "E5-NEW", T0 + H)
    check(order)
    assert order_row(order.pk).e5_policy == "E5-NEW"
    assert order_row(order.pk).e5_started_at == T0 + H


def order_row(pk: int) -> Any:
    return ProvisioningOrder.objects.annotate(**orders_sel._e5_annotations()).get(pk=pk)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [SpamCase, InstallationOrder, ProvisioningOrder, ServiceRequest])
def test_a_whole_row_save_after_a_clock_change_does_not_put_the_old_clock_back(customer_a, model):
    """A workflow loads the row, the engine starts a clock (writing the kept fields), then the
    workflow saves the (stale) instance whole: the kept fields survive (KeepsClockFields)."""
    item = make(model, customer_a)
    stale = model.objects.get(pk=item.pk)
    code = next(c for mm, c in CASES if mm is model)
    start(item, code)
    stale.save()
    check(item)
    assert current(mirror_of(model, code), item)[mirror_of(model, code).state] == ClockState.RUNNING
    # A save naming a kept field still writes it (a repair).
    m = mirror_of(model, code)
    stale = model.objects.get(pk=item.pk)
    setattr(stale, m.state, "")
    stale.save(update_fields=[m.state])
    assert current(m, item)[m.state] == ""
    mirrors.mirror_refresh(model, pks=[item.pk])
    check(item)


@pytest.mark.django_db
def test_the_service_desk_workflow_keeps_them(customer_a, alice, specialist):
    from servicedesk.services import request_create, request_resolve, request_resume, request_wait

    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), specialist=specialist)
    sr = request_create(customer=customer_a, actor=alice, kind="technical", service=service,
                        title="t", description="d", now=T0)
    check(sr)
    assert current(mirror_of(ServiceRequest, "SR-FIRST"), sr)["sla_first_state"] == ClockState.RUNNING
    request_wait(request_id=sr.pk, actor=specialist, now=T0 + H)
    check(sr)
    assert current(mirror_of(ServiceRequest, "SR-RESOLVE"), sr)["sla_resolve_paused_at"] == T0 + H
    request_resume(request_id=sr.pk, actor=specialist, now=T0 + 2 * H)
    check(sr)
    request_resolve(request_id=sr.pk, actor=specialist, now=T0 + 3 * H)
    check(sr)
    assert current(mirror_of(ServiceRequest, "SR-RESOLVE"), sr)["sla_resolve_state"] == ClockState.MET


# --- A small mixed dataset ----------------------------------------------------------------

NOW = T0 + 30 * 24 * H  # well after every clock below started


def dataset(customer: Any, model: type[models.Model], code: str) -> dict[str, Any]:
    """Items of `model` whose clocks of `code` are in every state that matters at NOW, including
    the deadline boundary; order states include closed orders with breached clocks."""
    made: dict[str, Any] = {}

    def mk(name: str, at: datetime | None = None) -> Clock | None:
        made[name] = make(model, customer, len(made))
        return start(made[name], code, at) if at else None

    probe = start(make(model, customer, 99), code, T0)  # the policy's span (calendar-aware)
    clock_cancel(clock_id=probe.pk, now=T0 + S)
    span = probe.due_at - T0

    mk("no clock")
    mk("running, not due", NOW - S)
    mk("running, exactly at the deadline", NOW - span)  # the overdue test sets now to its due_at
    mk("running past due, not swept", NOW - 29 * 24 * H)
    swept = mk("breached by the sweep", T0)
    late_done = mk("breached, completed late", T0 + S)
    met = mk("met in time", T0)
    paused = mk("paused past its deadline", T0)
    cancelled = mk("cancelled", T0)
    assert swept and late_done and met and paused and cancelled
    clock_meet(clock_id=met.pk, now=T0 + 2 * S)
    clock_pause(clock_id=paused.pk, now=T0 + 2 * S)
    clock_cancel(clock_id=cancelled.pk, now=T0 + 2 * S)
    clocks_sweep(now=max(swept.due_at, late_done.due_at))
    clock_meet(clock_id=late_done.pk, now=late_done.due_at + H)
    if model in (InstallationOrder, ProvisioningOrder):
        closed = mk("breached, order completed", T0)
        done = mk("breached, order cancelled", T0)
        assert closed and done
        clocks_sweep(now=max(closed.due_at, done.due_at))
        model.objects.filter(pk=made["breached, order completed"].pk).update(state="completed")
        model.objects.filter(pk=made["breached, order cancelled"].pk).update(state="cancelled")
        model.objects.filter(pk=made["no clock"].pk).update(state="completed")
    return made


def _old_overdue(model: type[models.Model], codes: list[str], open_states: Any, now: datetime,
                    overdue: bool) -> set[int]:
    """The orders' ?overdue definition before the fields were kept (Exists per row)."""
    late = Clock.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"),
                                policy__code__in=codes).filter(
        Q(state=ClockState.BREACHED) | Q(state=ClockState.RUNNING, due_at__lte=now))
    cond = Q(Exists(late), state__in=open_states)
    qs = model._default_manager.all()
    return set((qs.filter(cond) if overdue else qs.exclude(cond)).values_list("pk", flat=True))


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["C3", "E5-EXIST"])
def test_order_overdue_filters_match_the_old_definition(customer_a, manager, alice, code):
    from orders.choices import OPEN_ORDER_STATES, PROVISIONING_OPEN_STATES

    model = InstallationOrder if code == "C3" else ProvisioningOrder
    made = dataset(customer_a, model, code)
    exact = made["running, exactly at the deadline"]
    # The boundary: at due_at exactly the promise is broken.
    now = Clock.objects.get(object_id=exact.pk, content_type=ContentType.objects.get_for_model(model)).due_at
    names = {o.pk: n for n, o in made.items()}
    open_states = OPEN_ORDER_STATES if model is InstallationOrder else PROVISIONING_OPEN_STATES
    codes = ["C3"] if model is InstallationOrder else ["E5-EXIST", "E5-NEW"]
    for overdue in (True, False):
        old = _old_overdue(model, codes, open_states, now, overdue) & set(names)
        for user in (manager, alice):
            if model is InstallationOrder:
                got = orders_sel.order_list(user=user, overdue=overdue, now=now)
            else:
                got = orders_sel.provisioning_list(user=user, overdue=overdue, now=now)
            assert {o.pk for o in got} & set(names) == old, (overdue, user)
    late = {names[pk] for pk in _old_overdue(model, codes, open_states, now, True) if pk in names}
    assert late == {"running, exactly at the deadline", "running past due, not swept", "breached by the sweep",
                    "breached, completed late"}
    # A second before the deadline it is not late yet.
    assert made["running, exactly at the deadline"].pk not in {
        o.pk for o in (orders_sel.order_list(user=manager, overdue=True, now=now - S) if model is InstallationOrder
                       else orders_sel.provisioning_list(user=manager, overdue=True, now=now - S))}


# The annotations each list had before (a Subquery per row): the same values now.
OLD_ANNOTATIONS = {
    SpamCase: {"resp": ["E4-RESP"], "result": ["E4-RESULT"]},
    IscPublication: {"isc": ["E4-ISC"]},
    InstallationOrder: {"c3": ["C3"]},
    ProvisioningOrder: {"e5": ["E5-EXIST", "E5-NEW"]},
    ServiceRequest: {"first": ["SR-FIRST"], "resolve": ["SR-RESOLVE"]},
}
COLUMNS = {
    SpamCase: ["due_at", "state"], IscPublication: ["due_at", "state"], InstallationOrder: ["due_at", "state"],
    ProvisioningOrder: ["due_at", "state", "started_at", "policy"],
    ServiceRequest: ["due_at", "state", "paused_at"],
}


def old_rows(model: type[models.Model]) -> dict[int, dict[str, Any]]:
    ann: dict[str, Any] = {}
    for name, codes in OLD_ANNOTATIONS[model].items():
        latest = Clock.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=OuterRef("pk"),
                                      policy__code__in=codes).order_by("-started_at", "-id")
        for col in COLUMNS[model]:
            ann[f"{name}_{col}"] = Subquery(latest.values("policy__code" if col == "policy" else col)[:1])
    return {r["pk"]: r for r in model._default_manager.annotate(**ann).values("pk", *ann)}


def new_rows(model: type[models.Model], user: Any) -> dict[int, dict[str, Any]]:
    qs = {SpamCase: lambda: abuse_sel.case_list(user=user),
          IscPublication: lambda: abuse_sel.publication_list(user=user),
          InstallationOrder: lambda: orders_sel.order_list(user=user),
          ProvisioningOrder: lambda: orders_sel.provisioning_list(user=user),
          ServiceRequest: lambda: sd_sel.request_list(user=user)}[model]()
    keys = [f"{n}_{c}" for n in OLD_ANNOTATIONS[model] for c in COLUMNS[model]]
    return {o.pk: {"pk": o.pk, **{k: getattr(o, k) for k in keys}} for o in qs}


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "code"), CASES, ids=[f"{m.__name__}-{c}" for m, c in CASES])
def test_list_annotations_equal_the_old_subqueries(customer_a, manager, model, code):
    made = dataset(customer_a, model, code)
    got = new_rows(model, manager)
    want = old_rows(model)
    assert set(o.pk for o in made.values()) <= set(got)
    assert got == {pk: want[pk] for pk in got}


# --- Back-fill ----------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("migration", "models_"), [
    ("abuse.migrations.0002_clock_fields_on_items", [SpamCase, IscPublication]),
    ("orders.migrations.0004_clock_fields_on_orders", [InstallationOrder, ProvisioningOrder]),
    ("servicedesk.migrations.0002_clock_fields_on_requests", [ServiceRequest]),
])
def test_backfill_migration_derives_the_fields_from_existing_clocks(customer_a, migration, models_):
    items = []
    for model in models_:
        for mm, code in CASES:
            if mm is model:
                items += list(dataset(customer_a, model, code).values())
    for model in models_:
        blank = {}
        for m in mirrors.registered(model):
            blank.update({m.due_at: None, m.state: "", m.overdue: False})
            blank.update({f"{m.prefix}{x}": "" if x == "policy" else None for x in m.extra})
        model._default_manager.update(**blank)
    assert any(stored(mirrors.registered(type(i))[0], i.pk) != expected(mirrors.registered(type(i))[0], i.pk)
               for i in items)
    importlib.import_module(migration).backfill(apps, None)
    for i in items:
        check(i)


# --- The lists do not read the clocks -----------------------------------------------------

@pytest.mark.django_db
def test_list_selectors_issue_no_query_on_sla_clock(customer_a, manager, alice):
    for model, code in CASES:
        dataset(customer_a, model, code)
    start_month, end_month = T0.replace(day=1), T0.replace(month=4, day=1)
    calls = [
        lambda u: abuse_sel.case_list(user=u),
        lambda u: abuse_sel.publication_list(user=u),
        lambda u: orders_sel.order_list(user=u),
        lambda u: orders_sel.order_list(user=u, overdue=True, now=NOW),
        lambda u: orders_sel.order_list(user=u, overdue=False, now=NOW),
        lambda u: orders_sel.provisioning_list(user=u),
        lambda u: orders_sel.provisioning_list(user=u, overdue=True, now=NOW),
        lambda u: orders_sel.provisioning_list(user=u, overdue=False, now=NOW),
        lambda u: sd_sel.request_list(user=u),
    ]
    assert Clock._meta.db_table == "sla_clock"
    for user in (manager, alice):
        for call in calls:
            with CaptureQueriesContext(connection) as ctx:
                rows = list(call(user))
            assert all("sla_clock" not in q["sql"] for q in ctx.captured_queries), ctx.captured_queries
        assert rows  # the data is there
    with CaptureQueriesContext(connection) as ctx:
        orders_sel.provisioning_month(customer_id=customer_a.pk, start=start_month, end=end_month)
    assert all("sla_clock" not in q["sql"] for q in ctx.captured_queries)
