from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessRequestsConfig(AppConfig):
    name = "access_requests"
    verbose_name = _("Machine-room visits")

    def ready(self) -> None:
        from sla.templatetags.sla_ui import register_state_choices

        from .choices import VisitState

        register_state_choices(VisitState)
