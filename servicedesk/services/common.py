"""What the service-desk services share: roles, the row lock, the audited transition, the
subject token of the reply mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core import signing
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from audit.services import audit_record
from customers.choices import Role
from customers.models import Customer
from customers.selectors import user_customer_id, user_has_role
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from ..models import ServiceRequest

SR_FIRST = "SR-FIRST"
SR_RESOLVE = "SR-RESOLVE"

# Requests are handled by the specialists and engineers and watched by managers; data-centre
# staff have no part in them (least privilege, as complaints).
HANDLER_ROLES = (Role.SPECIALIST, Role.ENGINEER, Role.MANAGER)

TOKEN_SALT = "servicedesk.thread"


def is_handler(actor: Any) -> bool:
    return user_has_role(actor, *HANDLER_ROLES)


def require_handler(actor: Any) -> None:
    if not is_handler(actor):
        raise ForbiddenError(_("Only customer-service staff can do this."))


def require_handler_or_owner(actor: Any, sr: ServiceRequest) -> None:
    if not is_handler(actor) and user_customer_id(actor) != sr.customer_id:
        raise ForbiddenError(_("Only staff or the customer can do this."))


def user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def contract_of(customer: Customer) -> Any:
    return customer.contracts.order_by("-signed_at").first()


def locked(request_id: int) -> ServiceRequest:
    try:
        return (ServiceRequest.objects.select_for_update(of=("self",))
                .select_related("customer", "assignee", "contact").get(pk=request_id))
    except ServiceRequest.DoesNotExist:
        raise DomainError(_("No such service request."), code="not_found") from None


TRANSITION_LABELS = {
    "start": gettext_lazy("taken up"), "wait": gettext_lazy("set to wait for the customer"),
    "resume": gettext_lazy("put back in progress"), "resolve": gettext_lazy("resolved"),
    "close": gettext_lazy("closed"), "reopen": gettext_lazy("reopened"),
    "cancel": gettext_lazy("cancelled"),
}


def move(sr: ServiceRequest, method: str, *, actor: Any, reason: str, now: datetime) -> str:
    """Make one transition (checked), save, audit; returns the state before."""
    bound = getattr(sr, method)
    if not can_proceed(bound):
        raise ConflictError(
            _("A service request that is %(state)s cannot be %(action)s.")
            % {"state": sr.get_state_display(), "action": TRANSITION_LABELS.get(method, method)})
    before = sr.state
    bound(at=now)
    sr.save()
    audit_record(obj=sr, action=method, actor=actor, from_state=before, to_state=sr.state,
                 reason=reason, now=now)
    return before


# --- The thread token in the subject of the mail we send ----------------------------------

def thread_token(number: str) -> str:
    """The signature of the request number (django.core.signing, SECRET_KEY and a salt): only
    we can make it, so a reply carrying it belongs to that request."""
    return signing.Signer(salt=TOKEN_SALT).sign(number).rsplit(":", 1)[1]


def thread_tag(number: str) -> str:
    return f"[{number}#{thread_token(number)}]"


def thread_token_valid(number: str, token: str) -> bool:
    try:
        signing.Signer(salt=TOKEN_SALT).unsign(f"{number}:{token}")
    except signing.BadSignature:
        return False
    return True
