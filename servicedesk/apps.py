from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = _("Service requests")

    def ready(self) -> None:
        from sla.templatetags.sla_ui import register_state_choices

        from .choices import RequestState

        register_state_choices(RequestState)
