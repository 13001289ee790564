from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    name = "settlement"
    verbose_name = _("Monthly settlement")

    def ready(self) -> None:
        from sla.breaches import register_breach_source, register_overdue_source
        from sla.templatetags.sla_ui import register_state_choices

        from . import measures, receivers  # noqa: F401
        from .choices import Verdict
        from .selectors import breach_source, overdue_source

        register_state_choices(Verdict)
        register_breach_source(breach_source)
        register_overdue_source(overdue_source)
