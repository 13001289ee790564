from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    # The admin's section header: without it Django shows the label in English ("Operations").
    verbose_name = _("Operations")
