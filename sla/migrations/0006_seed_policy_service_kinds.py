"""The hosting agreement's promises (C1–C8) are made for hosting services, the e-mail guarantee's
(E1–E6) for e-mail services: an e-mail outage must not start the hosting emergency notice (C4)
and its rent deduction. A row an admin already narrowed is left as it is."""

from django.db import migrations

HOSTING = ["rental", "colocation", "rack"]
EMAIL = ["email"]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    for policy in SlaPolicy.objects.filter(service_kinds=[]):
        if policy.code.startswith("C"):
            policy.service_kinds = HOSTING
        elif policy.code.startswith("E"):
            policy.service_kinds = EMAIL
        else:
            continue
        policy.save(update_fields=["service_kinds"])


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.update(service_kinds=[])


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_policy_service_kinds")]
    operations = [migrations.RunPython(seed, unseed)]
