"""Two promises for service requests (服务请求, issue 13). Neither agreement names a figure for
them (seed 000 §5, §6 promise a dedicated specialist and engineer; seed 002 §9 a 7×24 customer
service by phone, e-mail and the web), so these rows are editable defaults, not clauses, and the
metric and clause texts say so:

- SR-FIRST: the first staff reply within 4 hours, counted around the clock (7×24 service).
- SR-RESOLVE: resolved within 3 working days; the clock stands still while the request waits
  for the customer.
Both are escalated to the manager when breached (no compensation is agreed)."""

from decimal import Decimal

from django.db import migrations

DEFAULT = "协议未约定时限，此为可修改的默认值 (no figure in the agreement: editable default)"

# code, zh, en, kind, metric, starts_on, comparison, threshold, unit, calendar, warn%, remedy, clause
POLICIES = [
    ("SR-FIRST", "服务请求首次响应", "Service request: first response", "deadline",
     f"first staff reply to the customer — {DEFAULT}", "request opened", "lt", "4", "hours", "24x7", 75,
     "escalate", f"服务协议 第五条、第六条；企业邮件服务品质保证书 九、客户服务保障 (7×24) — {DEFAULT}"),
    ("SR-RESOLVE", "服务请求解决", "Service request: resolution", "deadline",
     f"request resolved (paused while waiting for the customer) — {DEFAULT}", "request opened", "lt", "3",
     "working_days", "cn-workdays", 67, "escalate", f"服务协议 第五条、第六条 — {DEFAULT}"),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    for (code, zh, en, kind, metric, starts, cmp, thr, unit, cal, warn, remedy, clause) in POLICIES:
        SlaPolicy.objects.get_or_create(code=code, defaults=dict(
            name_zh=zh, name_en=en, kind=kind, metric=metric[:200], starts_on=starts, comparison=cmp,
            threshold=Decimal(thr), unit=unit, calendar=cal, warning_percent=warn, remedy=remedy,
            clause=clause[:200], service_kinds=[]))


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(code__in=[p[0] for p in POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0009_seed_antispam_antivirus")]
    operations = [migrations.RunPython(seed, unseed)]
