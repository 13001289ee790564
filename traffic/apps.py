from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrafficConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "traffic"
    verbose_name = _("Traffic statistics")

    def ready(self) -> None:
        from operations.services import mrtg_failure_counter_register

        from .services import mrtg_web_failures

        # Wrong MRTG passwords here count toward the same lock as phone authorization's.
        mrtg_failure_counter_register("traffic-web", mrtg_web_failures)
