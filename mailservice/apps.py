from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailserviceConfig(AppConfig):
    name = "mailservice"
    verbose_name = _("Enterprise e-mail measurement")
