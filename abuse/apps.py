from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AbuseConfig(AppConfig):
    name = "abuse"
    verbose_name = _("Anti-spam")

    def ready(self) -> None:
        from settlement.statement_sections import register_section
        from sla.templatetags.sla_ui import register_state_choices

        from . import receivers  # noqa: F401  (connects the signal receivers)
        from .choices import CaseState, PublicationState
        from .statement import spam_cases_section

        register_state_choices(CaseState)
        register_state_choices(PublicationState)
        register_section("abuse", spam_cases_section, order=40)
