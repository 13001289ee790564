from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RuntimeConfig(AppConfig):
    """The portal's own moving parts: the long-running loops and their heartbeats, /healthz,
    /metrics, the local mail catcher that `make run` starts, and the system checks."""

    name = "runtime"
    verbose_name = _("Runtime")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
