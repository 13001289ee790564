from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "operations"
    # The admin's section header: without it Django shows the label in English ("Operations").
    verbose_name = _("Operations")

    def ready(self) -> None:
        from sla.templatetags.sla_ui import register_state_choices

        from .choices import AuthorizationStatus, OperationState
        from .models import Authorization, OperationRequest

        # The audit trail shows an operation's states in its own words ("in_progress" is 进行中
        # here, 开通中 on a provisioning order).
        register_state_choices(OperationState, model=OperationRequest)
        register_state_choices(AuthorizationStatus, model=Authorization)
