from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Installation and provisioning orders")

    def ready(self) -> None:
        from settlement.statement_sections import register_section
        from sla.templatetags.sla_ui import register_state_choices

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .choices import OrderState, ProvisioningState
        from .statement import provisioning_statement_section

        register_state_choices(OrderState)
        register_state_choices(ProvisioningState)
        # The monthly statement lists the month's provisioning orders (E5) after the services.
        register_section("provisioning", provisioning_statement_section, order=60)

        from sla import mirrors

        from .choices import E5_CODES
        from .models import InstallationOrder, ProvisioningOrder

        # The current clocks are kept on the orders (sla.mirrors). Overdue here is "some clock
        # breached" (late completion or not), the definition the order lists always used.
        mirrors.register(InstallationOrder, policy_codes=("C3",), prefix="sla_", overdue_rule="breached")
        mirrors.register(ProvisioningOrder, policy_codes=E5_CODES, prefix="sla_",
                         extra=("started_at", "policy"), overdue_rule="breached")
