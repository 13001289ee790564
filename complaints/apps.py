from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        from sla import mirrors

        from .models import Complaint

        # The current C8 clock (first written report within 24 h) is kept on the complaint.
        mirrors.register(Complaint, policy_codes=("C8",), prefix="sla_")
