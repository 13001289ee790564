"""C3 moves from the contract to the installation orders.

1. Every existing hosting service (not e-mail: its provisioning is E5) without an installation
   order gets one, with the checklist of its kind.
2. Every C3 clock whose subject is a contract is re-pointed to the order of the contract's first
   hosting service (content type and object id only; every time and the state stay), copied for
   each further hosting service of the contract (each installation is its own promise), or, when
   the contract has no hosting service, cancelled if it is still open (nothing can ever meet it).

Every change appends an audit row. Historical models only; the checklist table is a frozen
copy of orders.choices.CHECKLISTS as it was when this migration was written.

One-way: going back drops the orders, and the clocks re-pointed here would point at nothing, so
the reverse does not try to undo step 2."""

from django.db import migrations
from django.utils import timezone

CHECKLISTS = {
    "rental": ("hardware", "software", "power", "network"),
    "colocation": ("power", "network"),
    "rack": ("power", "network"),
}
OPEN = ("running", "paused")
# Every field of a clock a copy keeps (the id, subject and escalation marks are its own).
COPY_EXCLUDE = {"id", "content_type", "object_id"}


def _ct(apps, app_label, model):
    ContentType = apps.get_model("contenttypes", "ContentType")
    return ContentType.objects.get_or_create(app_label=app_label, model=model)[0]


def forwards(apps, schema_editor):
    Service = apps.get_model("customers", "Service")
    Clock = apps.get_model("sla", "Clock")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    InstallationOrder = apps.get_model("orders", "InstallationOrder")
    ChecklistItem = apps.get_model("orders", "ChecklistItem")
    now = timezone.now()
    ct_order = _ct(apps, "orders", "installationorder")
    ct_contract = _ct(apps, "customers", "contract")
    ct_clock = _ct(apps, "sla", "clock")

    def audit(ct, object_id, action, *, reason, data, from_state="", to_state=""):
        AuditEntry.objects.create(content_type=ct, object_id=object_id, action=action,
                                  from_state=from_state, to_state=to_state, actor=None, at=now,
                                  reason=reason, data=data)

    # 1. An order (and its checklist) for every hosting service that has none.
    has_order = set(InstallationOrder.objects.values_list("service_id", flat=True))
    for service in Service.objects.filter(kind__in=list(CHECKLISTS)).order_by("contract_id", "id"):
        if service.pk in has_order:
            continue
        order = InstallationOrder.objects.create(
            service_id=service.pk, contract_id=service.contract_id, customer_id=service.customer_id,
            state="open", created_at=now)
        ChecklistItem.objects.bulk_create([
            ChecklistItem(order_id=order.pk, code=code, position=i)
            for i, code in enumerate(CHECKLISTS[service.kind])])
        audit(ct_order, order.pk, "create", to_state="open",
              reason="opened by migration orders.0002 for an existing service",
              data={"service": service.pk, "items": list(CHECKLISTS[service.kind])})

    # 2. The C3 clocks that ran on contracts.
    fields = [f.attname for f in Clock._meta.concrete_fields if f.name not in COPY_EXCLUDE]
    clocks = Clock.objects.filter(policy__code="C3", content_type=ct_contract).order_by("id")
    for clock in clocks:
        orders = list(InstallationOrder.objects.filter(contract_id=clock.object_id)
                      .select_related("service").order_by("service_id"))
        if not orders:
            if clock.state in OPEN:
                Clock.objects.filter(pk=clock.pk).update(state="cancelled", cancelled_at=now,
                                                         paused_at=None)
                audit(ct_clock, clock.pk, "cancel", from_state=clock.state, to_state="cancelled",
                      reason="C3 now runs on installation orders; this contract has no hosting "
                             "service to install (migration orders.0002)",
                      data={"contract": clock.object_id})
            continue
        first, rest = orders[0], orders[1:]
        Clock.objects.filter(pk=clock.pk).update(content_type=ct_order, object_id=first.pk)
        audit(ct_clock, clock.pk, "repoint", from_state=clock.state, to_state=clock.state,
              reason="C3 moved from the contract to its installation order (migration orders.0002)",
              data={"from": {"model": "customers.contract", "id": clock.object_id},
                    "to": {"model": "orders.installationorder", "id": first.pk}})
        for order in rest:
            values = {name: getattr(clock, name) for name in fields}
            copy = Clock.objects.create(content_type=ct_order, object_id=order.pk, **values)
            audit(ct_clock, copy.pk, "copy", from_state="", to_state=clock.state,
                  reason="C3 of a further service of the contract, copied from the contract's "
                         "clock (migration orders.0002)",
                  data={"copied_from": clock.pk, "contract": clock.object_id,
                        "to": {"model": "orders.installationorder", "id": order.pk}})


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0001_initial"),
        ("audit", "0002_append_only"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0002_service_location_statement_optin"),
        ("sla", "0004_escalation_marks"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
