from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentState(models.TextChoices):
    DETECTED = "detected", _("detected")
    DECLARED = "declared", _("emergency declared")
    NOTIFIED = "notified", _("contact notified")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    RESOLVED = "resolved", _("resolved")
    CLASSIFIED = "classified", _("cause classified")
    CLOSED = "closed", _("closed")


OPEN_INCIDENT_STATES = (IncidentState.DETECTED, IncidentState.DECLARED, IncidentState.NOTIFIED,
                        IncidentState.ACKNOWLEDGED)


class IncidentSource(models.TextChoices):
    MONITOR = "monitor", _("monitoring probe")
    WEBHOOK = "webhook", _("external monitor")
    CUSTOMER = "customer", _("customer report")
    STAFF = "staff", _("staff")


class ReportChannel(models.TextChoices):
    """How the customer told the provider about an outage (the 5-day clause)."""

    PORTAL = "portal", _("portal")
    COMPLAINT_LINE = "complaint_line", _("complaint line")
    ACKNOWLEDGEMENT = "acknowledgement", _("acknowledgement of the incident")


class OutageKind(models.TextChoices):
    NETWORK = "network", _("network connectivity")
    POWER = "power", _("power (mains and UPS both without power)")


class OutageSource(models.TextChoices):
    PROBE = "probe", _("monitoring probe")
    WEBHOOK = "webhook", _("external monitor")
    MANUAL = "manual", _("entered by staff")


class Cause(models.TextChoices):
    """SPEC 'What counts as downtime' (seed 第一条, 第二条, 第十条). Only PROVIDER is counted."""

    PROVIDER = "provider", _("Provider's fault (counted)")
    AGREED_MAINTENANCE = "agreed_maintenance", _("Maintenance agreed by the customer")
    CUSTOMER_EQUIPMENT = "customer_equipment", _("Customer's circuits or equipment")
    CUSTOMER_APPLICATION = "customer_application", _("Customer's applications or installation work")
    CUSTOMER_NEGLIGENCE = "customer_negligence", _("Customer's negligence or operations the customer authorized")
    FM_NATURAL = "fm_natural", _("Force majeure: natural disaster")
    FM_WAR_STRIKE_GRID = "fm_war_strike_grid", _("Force majeure: war, strikes, grid cuts")
    FM_GOVERNMENT = "fm_government", _("Force majeure: law or government action")
    FM_TELECOM = "fm_telecom", _("Force majeure: telecom lines cut by others or carrier upgrades")
    FM_THIRD_PARTY = "fm_third_party", _("Force majeure: unlawful acts of third parties")
    CUSTOMER_OTHER = "customer_other", _("Other causes on the customer's side")


COUNTED_CAUSES = frozenset({Cause.PROVIDER})

# The seed's own words for each cause, shown next to the classification.
CAUSE_SEED_TEXT = {
    Cause.PROVIDER: "乙方造成的甲方设备不联通 / 电力中断",
    Cause.AGREED_MAINTENANCE: "乙方经甲方同意进行网络维护所引起的（第一条）",
    Cause.CUSTOMER_EQUIPMENT: "任何甲方的电路或者设备引起的（第一条；第二条 4.1）",
    Cause.CUSTOMER_APPLICATION: "甲方的应用程序或安装活动所引起的（第一条；第二条 4.2）",
    Cause.CUSTOMER_NEGLIGENCE: "甲方的疏忽或由甲方授权的操作所引起的（第一条；第二条 4.3）",
    Cause.FM_NATURAL: "不可抗力：地震，台风，洪水等自然灾害（第十条 1.1）",
    Cause.FM_WAR_STRIKE_GRID: "不可抗力：战争，罢工，停电等（第十条 1.2）",
    Cause.FM_GOVERNMENT: "不可抗力：法律法规及政府行政行为（第十条 1.3）",
    Cause.FM_TELECOM: "不可抗力：电信线路被人为破坏或 chinanet 线路、设备因调试、扩容（第十条 1.4）",
    Cause.FM_THIRD_PARTY: "不可抗力：其它非乙方原因而被第三者不法侵害（第十条 1.5）",
    Cause.CUSTOMER_OTHER: "甲方导致的其它原因（第一条）",
}


class NoticeExemption(models.TextChoices):
    """Seed 第四条: the notice promise does not apply in these cases."""

    CONTACT_OUTDATED = "contact_outdated", _("Contact details outdated or wrong through the customer's fault")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")


class NoticeOutcome(models.TextChoices):
    PENDING = "pending", _("sending")
    AWAITING_CALL = "awaiting_call", _("call to be made by the engineer")
    DELIVERED = "delivered", _("delivered")
    REACHED = "reached", _("reached by phone")
    NO_ANSWER = "no_answer", _("no answer")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("not needed any more")


SUCCESS_OUTCOMES = (NoticeOutcome.DELIVERED, NoticeOutcome.REACHED)
OPEN_OUTCOMES = (NoticeOutcome.PENDING, NoticeOutcome.AWAITING_CALL)


class WebhookFormat(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GENERIC = "generic", _("Generic JSON")


# Force majeure (seed 第十条): the cause codes under which a facility event relieves the clocks of
# the deadline promises (C3, C5–C8) of the services it hit.
FORCE_MAJEURE_CAUSES = frozenset({Cause.FM_NATURAL, Cause.FM_WAR_STRIKE_GRID, Cause.FM_GOVERNMENT,
                                  Cause.FM_TELECOM, Cause.FM_THIRD_PARTY})
FORCE_MAJEURE_POLICY_CODES = ("C3", "C5", "C6", "C7", "C8")


class FacilityScope(models.TextChoices):
    """Where a facility event hit, matched exactly against the service's location fields."""

    ROOM = "room", _("machine room")
    RACK_ROW = "rack_row", _("rack row")
    UPLINK = "uplink", _("uplink")


class FacilityEventKind(models.TextChoices):
    POWER_CUT = "power_cut", _("Power cut")
    CARRIER_FAULT = "carrier_fault", _("Upstream carrier fault")
    MAINTENANCE = "maintenance", _("Agreed maintenance window")


# A power cut takes mains and UPS away (C2); a carrier fault or a maintenance window takes the
# network away (C1/E1).
FACILITY_OUTAGE_KIND = {
    FacilityEventKind.POWER_CUT: OutageKind.POWER,
    FacilityEventKind.CARRIER_FAULT: OutageKind.NETWORK,
    FacilityEventKind.MAINTENANCE: OutageKind.NETWORK,
}


class ReliefAction(models.TextChoices):
    """What a force-majeure facility event did to one clock."""

    PAUSED = "paused", _("paused")
    RESUMED = "resumed", _("resumed")
    EXTENDED = "extended", _("deadline extended")
    EXEMPTED = "exempted", _("breach exempted")
