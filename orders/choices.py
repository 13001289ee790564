from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.choices import ServiceKind


class OrderState(models.TextChoices):
    OPEN = "open", _("open")
    PAUSED = "paused", _("paused (customer side)")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


OPEN_ORDER_STATES = (OrderState.OPEN, OrderState.PAUSED)


class ChecklistCode(models.TextChoices):
    """The installation work of seed 000 §3 (初装保证), one item each."""

    HARDWARE = "hardware", _("Server hardware installation and testing")
    SOFTWARE = "software", _("Standard system software installation and testing")
    POWER = "power", _("Power supply installation")
    NETWORK = "network", _("Network connection installation")


# Seed 000 §3.1: rental gets hardware, system software, power and network; colocation and rack
# rental get power and network. Enterprise e-mail has no installation order: its provisioning
# is promise E5 (an e-mail provisioning order, a later issue), started by confirmed payment.
CHECKLISTS: dict[str, tuple[str, ...]] = {
    ServiceKind.RENTAL: (ChecklistCode.HARDWARE, ChecklistCode.SOFTWARE, ChecklistCode.POWER,
                         ChecklistCode.NETWORK),
    ServiceKind.COLOCATION: (ChecklistCode.POWER, ChecklistCode.NETWORK),
    ServiceKind.RACK: (ChecklistCode.POWER, ChecklistCode.NETWORK),
}


class PauseReason(models.TextChoices):
    """Delays the customer causes; only these stop the installation clock."""

    CUSTOMER_NOT_READY = "customer_not_ready", _("Customer not ready")
    CUSTOMER_EQUIPMENT_MISSING = "customer_equipment_missing", _("Customer equipment not in place")
    OTHER_CUSTOMER_CAUSE = "other_customer_cause", _("Other customer-side cause")


# --- E-mail provisioning (promise E5, seed 002 §8 开通的保障) -----------------------------------

class ProvisioningState(models.TextChoices):
    """An e-mail provisioning order waits for the payment, is worked on once the payment is
    confirmed (the E5 clock runs), and ends completed (the customer told) or cancelled."""

    AWAITING_PAYMENT = "awaiting_payment", _("awaiting payment")
    IN_PROGRESS = "in_progress", _("being provisioned")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


PROVISIONING_OPEN_STATES = (ProvisioningState.AWAITING_PAYMENT, ProvisioningState.IN_PROGRESS)


class ProvisioningItemCode(models.TextChoices):
    """The work of opening an e-mail service: the domain (registered when new), its DNS records,
    the mailboxes, the administrator account, and telling the customer (seed 002 §8.1:
    开通相关产品服务并通知到甲方)."""

    DOMAIN_REGISTRATION = "domain_registration", _("Domain name registered")
    DNS_RECORDS = "dns_records", _("DNS MX and SPF records set")
    MAILBOXES = "mailboxes", _("Mailboxes created")
    ADMIN_HANDOVER = "admin_handover", _("Administrator account handed over")
    CUSTOMER_NOTIFIED = "customer_notified", _("Customer notified")


def provisioning_checklist(*, new_domain: bool) -> tuple[str, ...]:
    """The checklist of an order: a domain to be registered adds its registration first."""
    rest = (ProvisioningItemCode.DNS_RECORDS, ProvisioningItemCode.MAILBOXES,
            ProvisioningItemCode.ADMIN_HANDOVER, ProvisioningItemCode.CUSTOMER_NOTIFIED)
    return (ProvisioningItemCode.DOMAIN_REGISTRATION, *rest) if new_domain else rest


# E5 has one promise per case (seed 002 §8.2): 24 h when the customer already has the domain,
# 48 h when a new one must be registered; the order's new_domain flag picks the policy row.
E5_EXISTING = "E5-EXIST"
E5_NEW = "E5-NEW"
E5_CODES = (E5_EXISTING, E5_NEW)
