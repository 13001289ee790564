"""Two promises of seed 002 the first seeding left out:

- E4-ISC (§4 d): after the Internet Society of China (互联网协会) publishes its latest list of spam
  servers, the provider processes it within one working day. A provider-level task with no
  customer to compensate, so its remedy is escalation to the manager.
- AV-SIG (§5): the virus signatures are updated at least once a week; more than 7 days without an
  update breaks the promise for every e-mail customer on that platform, remedied by waiving that
  month's fee (§5.3 免收甲方当月之费用).
Both are made for e-mail services (as 0006 set for the other E rows)."""

from decimal import Decimal

from django.db import migrations

MAIL = "企业邮件服务品质保证书"

# code, zh, en, kind, metric, starts_on, comparison, threshold, unit, calendar, warn%, remedy, clause
POLICIES = [
    ("E4-ISC", "互联网协会垃圾邮件服务器清单处理", "ISC spam-server list processed", "deadline",
     "the published list processed", "ISC list published", "le", "1", "working_days", "cn-workdays", 67,
     "escalate", f"{MAIL} 四、反垃圾邮件保障 d"),
    ("AV-SIG", "病毒库升级（每周至少一次）", "Virus signature update (at least weekly)", "measure",
     "days since the last virus signature update", "", "le", "7", "days", "day", 80,
     "waive_month_rent", f"{MAIL} 五、防病毒保障"),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    for (code, zh, en, kind, metric, starts, cmp, thr, unit, cal, warn, remedy, clause) in POLICIES:
        SlaPolicy.objects.get_or_create(code=code, defaults=dict(
            name_zh=zh, name_en=en, kind=kind, metric=metric, starts_on=starts, comparison=cmp,
            threshold=Decimal(thr), unit=unit, calendar=cal, warning_percent=warn, remedy=remedy,
            clause=clause, service_kinds=["email"]))


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(code__in=[p[0] for p in POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0008_seed_e3_billing_webmail")]
    operations = [migrations.RunPython(seed, unseed)]
