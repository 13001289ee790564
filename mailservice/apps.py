from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailserviceConfig(AppConfig):
    name = "mailservice"
    verbose_name = _("Enterprise e-mail measurement")

    def ready(self) -> None:
        from . import (
            guarantee,  # noqa: F401  (registers E6 and AV-SIG, and the statement section)
            measures,  # noqa: F401  (registers E2/E3 with the month close)
            receivers,  # noqa: F401  (mail-loop samples → LatencyHourly)
        )
