from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    # The admin's section header: without it Django shows the label in English ("Monitoring").
    verbose_name = _("Monitoring")
