"""Seed 002 §3 has two operations figures the first seeding left out: the billing error rate
(计费差错率 ≤ 3×10⁻⁵, i.e. 0.003 %) and the webmail page open time (web 页面打开速度, average
≤ 10 s on broadband). Both are the e-mail guarantee's, made for e-mail services (as 0006 set
for the other E rows), remedied by double service time for the month."""

from decimal import Decimal

from django.db import migrations

MAIL = "企业邮件服务品质保证书"

# code, zh, en, metric, comparison, threshold, unit
POLICIES = [
    ("E3-BILL", "计费差错率", "Billing error rate", "customers billed wrongly ÷ customers billed in the month",
     "le", "0.003", "percent"),
    ("E3-WEB", "web 页面打开速度", "Webmail page open time",
     "average webmail page open time on broadband", "le", "10", "seconds"),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    for code, zh, en, metric, cmp, thr, unit in POLICIES:
        SlaPolicy.objects.get_or_create(code=code, defaults=dict(
            name_zh=zh, name_en=en, kind="measure", metric=metric, starts_on="", comparison=cmp,
            threshold=Decimal(thr), unit=unit, calendar="month", warning_percent=80,
            remedy="extend_service", clause=f"{MAIL} 三、运维保障", service_kinds=["email"]))


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(code__in=[p[0] for p in POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0007_unit_seconds")]
    operations = [migrations.RunPython(seed, unseed)]
