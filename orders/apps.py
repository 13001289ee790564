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
