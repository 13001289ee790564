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

        from sla import mirrors

        from .models import IscPublication, SpamCase

        # The current clocks are kept on the items (sla.mirrors): the lists read columns.
        mirrors.register(SpamCase, policy_codes=("E4-RESP",), prefix="sla_resp_")
        mirrors.register(SpamCase, policy_codes=("E4-RESULT",), prefix="sla_result_")
        mirrors.register(IscPublication, policy_codes=("E4-ISC",), prefix="sla_")
