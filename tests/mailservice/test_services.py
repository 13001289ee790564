"""Staff writes of the e-mail measurement: platforms, domains, faults and adjustments, billing
figures. Roles are checked, bad input refused with field errors and nothing written, every change
audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEntry
from mailservice import services
from mailservice.aggregates import LatencyAccumulator
from mailservice.models import BillingErrorFigure, MailDomain, MailPlatform, PlatformEvent
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=TZ)


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")


@pytest.fixture
def platform():  # type: ignore[no-untyped-def]
    return f.MailPlatformFactory(name="主邮件系统")


def audit(obj, action: str) -> AuditEntry:  # type: ignore[no-untyped-def]
    return AuditEntry.objects.get(object_id=obj.pk, content_type__model=obj._meta.model_name, action=action)


# --- Roles ---------------------------------------------------------------------------------------

def test_a_specialist_or_a_customer_user_is_refused_every_write(specialist, alice, mail, platform):  # type: ignore[no-untyped-def]
    for actor in (specialist, alice, None):
        with pytest.raises(ForbiddenError):
            services.mail_platform_save(actor=actor, data={"name": "x"}, now=NOW)
        with pytest.raises(ForbiddenError):
            services.mail_domain_save(actor=actor, service=mail, data={"domain": "a.cn", "platform": platform})
        with pytest.raises(ForbiddenError):
            services.platform_event_save(actor=actor, data={"platform": platform, "kind": "fault", "title": "x",
                                                            "started_at": NOW - timedelta(hours=1)}, now=NOW)
        with pytest.raises(ForbiddenError):
            services.billing_figure_save(actor=actor, month=date(2026, 2, 1), customers_billed=10,
                                         customers_with_error=0, now=NOW)
    assert not PlatformEvent.objects.exists() and not BillingErrorFigure.objects.exists()
    assert MailPlatform.objects.count() == 1 and not MailDomain.objects.exists()


def test_billing_figures_are_a_managers_an_engineer_is_refused(engineer, manager):  # type: ignore[no-untyped-def]
    with pytest.raises(ForbiddenError) as e:
        services.billing_figure_save(actor=engineer, month=date(2026, 2, 1), customers_billed=10,
                                     customers_with_error=0, now=NOW)
    assert "经理" in str(e.value.message)  # Chinese first: "only a manager" in the default language
    fig = services.billing_figure_save(actor=manager, month=date(2026, 2, 14), customers_billed=40_000,
                                       customers_with_error=1, note="二月账单", now=NOW)
    assert (fig.month, fig.entered_by, fig.entered_at) == (date(2026, 2, 1), manager, NOW)
    # The same month again corrects the one row.
    again = services.billing_figure_save(actor=manager, month=date(2026, 2, 1), customers_billed=40_000,
                                         customers_with_error=2, now=NOW + timedelta(hours=1))
    assert again.pk == fig.pk and BillingErrorFigure.objects.count() == 1
    entries = AuditEntry.objects.filter(object_id=fig.pk, content_type__model="billingerrorfigure")
    assert [e.action for e in entries.order_by("pk")] == ["create", "change"]
    assert entries.order_by("pk").last().data["changed"] == {"customers_with_error": [1, 2]}


@pytest.mark.parametrize(("month", "billed", "errors", "field"), [
    (date(2026, 4, 1), 10, 0, "month"),
    (date(2026, 2, 1), 0, 0, "customers_billed"),
    (date(2026, 2, 1), 10, 11, "customers_with_error"),
    (date(2026, 2, 1), 10, -1, "customers_with_error"),
])
def test_billing_figures_bad_input(manager, month, billed, errors, field):  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as e:
        services.billing_figure_save(actor=manager, month=month, customers_billed=billed,
                                     customers_with_error=errors, now=NOW)
    assert field in e.value.field_errors
    assert not BillingErrorFigure.objects.exists()


# --- Platforms and domains ---------------------------------------------------------------------

def test_platform_and_domain_are_saved_and_audited(engineer, mail):  # type: ignore[no-untyped-def]
    p = services.mail_platform_save(actor=engineer, data={"name": " 北京邮件系统 ", "description": "mx1/mx2"},
                                    now=NOW)
    assert p.name == "北京邮件系统" and audit(p, "create")
    d = services.mail_domain_save(actor=engineer, service=mail, data={"domain": "Alpha.Example.CN.", "platform": p},
                                  now=NOW)
    assert (d.domain, d.customer_id, d.platform_id) == ("alpha.example.cn", mail.customer_id, p.pk)
    assert audit(d, "create").data["changed"]["domain"] == [None, "alpha.example.cn"]
    with pytest.raises(DomainError) as e:
        services.mail_platform_save(actor=engineer, data={"name": "北京邮件系统"}, now=NOW)
    assert "name" in e.value.field_errors


@pytest.mark.parametrize(("name", "field"), [("not a domain", "domain"), ("-x.cn", "domain"), ("cn", "domain")])
def test_domain_bad_input(engineer, mail, platform, name, field):  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as e:
        services.mail_domain_save(actor=engineer, service=mail, data={"domain": name, "platform": platform})
    assert field in e.value.field_errors and not MailDomain.objects.exists()


def test_a_hosting_service_has_no_mail_domain_and_a_taken_domain_is_refused(engineer, mail, platform, customer_a):  # type: ignore[no-untyped-def]
    hosting = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="colocation")
    with pytest.raises(DomainError) as e:
        services.mail_domain_save(actor=engineer, service=hosting, data={"domain": "a.cn", "platform": platform})
    assert "service" in e.value.field_errors
    services.mail_domain_save(actor=engineer, service=mail, data={"domain": "a.cn", "platform": platform})
    with pytest.raises(DomainError) as e:
        services.mail_domain_save(actor=engineer, service=mail, data={"domain": "A.cn", "platform": platform})
    assert "domain" in e.value.field_errors


def test_a_domain_with_latency_history_is_kept(engineer, mail, platform):  # type: ignore[no-untyped-def]
    d = services.mail_domain_save(actor=engineer, service=mail, data={"domain": "a.cn", "platform": platform})
    fresh = services.mail_domain_save(actor=engineer, service=mail, data={"domain": "b.cn", "platform": platform})
    acc = LatencyAccumulator()
    acc.add(domain_id=d.pk, at=NOW.timestamp(), direction="send", source="log", latency_ms=10)
    acc.flush()
    with pytest.raises(ConflictError):
        services.mail_domain_delete(actor=engineer, domain_id=d.pk, reason="x")
    services.mail_domain_delete(actor=engineer, domain_id=fresh.pk, reason="录入错误")
    assert list(MailDomain.objects.values_list("domain", flat=True)) == ["a.cn"]
    # A platform still hosting domains cannot be deleted.
    with pytest.raises(ConflictError):
        services.mail_platform_delete(actor=engineer, platform_id=platform.pk)


# --- Faults and adjustments -----------------------------------------------------------------------

def test_fault_recorded_ended_and_deleted_with_a_reason(engineer, platform):  # type: ignore[no-untyped-def]
    ev = services.platform_event_save(actor=engineer, data={
        "platform": platform, "kind": "fault", "title": " 存储阵列故障 ", "started_at": NOW - timedelta(hours=2)},
        now=NOW)
    assert (ev.ended_at, ev.recorded_by, ev.recorded_at, ev.title) == (None, engineer, NOW, "存储阵列故障")
    ended = services.platform_event_end(actor=engineer, event_id=ev.pk, ended_at=NOW - timedelta(minutes=30),
                                        note="已更换控制器", now=NOW)
    assert ended.ended_at == NOW - timedelta(minutes=30) and "已更换控制器" in ended.note
    assert audit(ev, "change").data["changed"]["ended_at"][0] is None
    with pytest.raises(ConflictError):
        services.platform_event_end(actor=engineer, event_id=ev.pk, ended_at=NOW, now=NOW)
    with pytest.raises(DomainError) as e:
        services.platform_event_delete(actor=engineer, event_id=ev.pk, reason=" ", now=NOW)
    assert "reason" in e.value.field_errors
    services.platform_event_delete(actor=engineer, event_id=ev.pk, reason="重复录入", now=NOW)
    assert not PlatformEvent.objects.exists()
    deleted = AuditEntry.objects.get(action="delete", content_type__model="platformevent")
    assert deleted.reason == "重复录入" and deleted.data["deleted"]["title"] == "存储阵列故障"


def test_event_bad_input_writes_nothing(engineer, platform):  # type: ignore[no-untyped-def]
    cases = [
        ({"kind": "fault", "title": "x", "started_at": NOW, "ended_at": NOW - timedelta(minutes=1)}, "ended_at"),
        ({"kind": "fault", "title": "x", "started_at": NOW + timedelta(hours=1)}, "started_at"),
        ({"kind": "fault", "title": "", "started_at": NOW - timedelta(hours=1)}, "title"),
        ({"kind": "storm", "title": "x", "started_at": NOW - timedelta(hours=1)}, "kind"),
        ({"kind": "fault", "title": "x", "started_at": None}, "started_at"),
    ]
    for data, field in cases:
        with pytest.raises(DomainError) as e:
            services.platform_event_save(actor=engineer, data={"platform": platform, **data}, now=NOW)
        assert field in e.value.field_errors, (data, e.value.field_errors)
    with pytest.raises(DomainError) as e:
        services.platform_event_save(actor=engineer, data={"kind": "fault", "title": "x",
                                                           "started_at": NOW - timedelta(hours=1)}, now=NOW)
    assert "platform" in e.value.field_errors
    assert not PlatformEvent.objects.exists() and not AuditEntry.objects.filter(
        content_type__model="platformevent").exists()


def test_an_adjustment_may_be_planned_ahead_but_not_ended_in_the_future(engineer, platform):  # type: ignore[no-untyped-def]
    ev = services.platform_event_save(actor=engineer, data={
        "platform": platform, "kind": "adjustment", "title": "系统升级", "started_at": NOW + timedelta(days=2),
        "ended_at": NOW + timedelta(days=2, hours=1)}, now=NOW)
    assert ev.pk
    open_ = services.platform_event_save(actor=engineer, data={
        "platform": platform, "kind": "adjustment", "title": "扩容", "started_at": NOW - timedelta(hours=1)}, now=NOW)
    with pytest.raises(DomainError) as e:
        services.platform_event_end(actor=engineer, event_id=open_.pk, ended_at=NOW + timedelta(hours=1), now=NOW)
    assert "ended_at" in e.value.field_errors


def test_billing_staff_with_the_permission_enter_the_figures(specialist):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Permission

    with pytest.raises(ForbiddenError):
        services.billing_figure_save(actor=specialist, month=date(2026, 2, 1), customers_billed=10,
                                     customers_with_error=0, now=NOW)
    specialist.user_permissions.add(Permission.objects.get(codename="add_billingerrorfigure"))
    billing = type(specialist).objects.get(pk=specialist.pk)  # a fresh user: permissions are cached
    fig = services.billing_figure_save(actor=billing, month=date(2026, 2, 1), customers_billed=10,
                                       customers_with_error=0, now=NOW)
    assert fig.entered_by == billing
