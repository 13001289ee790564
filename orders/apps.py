from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Installation and provisioning orders")

    def ready(self) -> None:
        from sla.templatetags.sla_ui import register_state_choices

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .choices import OrderState

        register_state_choices(OrderState)
