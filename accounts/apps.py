from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and sign-in")

    def ready(self) -> None:
        # Registers the OpenAPI description of the token authentication (drf-spectacular finds
        # extensions by subclass registration, so the module only has to be imported).
        from . import schema  # noqa: F401
