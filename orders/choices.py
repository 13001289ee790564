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
