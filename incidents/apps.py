from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from sla.templatetags.sla_ui import register_state_choices

        from . import receivers
        from .choices import IncidentState, NoticeExemption
        from .models import Incident, Outage

        register_state_choices(NoticeExemption)
        register_state_choices(IncidentState, model=Incident)

        post_save.connect(receivers.on_outage_saved, sender=Outage, dispatch_uid="incidents.outage_saved")
        post_save.connect(receivers.on_incident_saved, sender=Incident,
                          dispatch_uid="incidents.incident_reported")
