from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        from sla.templatetags.sla_ui import register_state_choices

        from .choices import RequestState

        register_state_choices(RequestState)

        from sla import mirrors

        from .models import ServiceRequest
        from .services.common import SR_FIRST, SR_RESOLVE

        # The current clocks are kept on the request (sla.mirrors), with paused_at for a paused
        # countdown: the list reads columns, not subqueries per row.
        mirrors.register(ServiceRequest, policy_codes=(SR_FIRST,), prefix="sla_first_", extra=("paused_at",))
        mirrors.register(ServiceRequest, policy_codes=(SR_RESOLVE,), prefix="sla_resolve_", extra=("paused_at",))
