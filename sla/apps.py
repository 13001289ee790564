from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("SLA policies and clocks")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import signals  # noqa: F401
        from .calendars import forget_missing_years

        override = self.get_model("WorkdayOverride")
        post_save.connect(forget_missing_years, sender=override, dispatch_uid="sla.forget_missing_years.save")
        post_delete.connect(forget_missing_years, sender=override, dispatch_uid="sla.forget_missing_years.delete")
