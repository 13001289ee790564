"""Writes for customers, contracts, services and authorized contacts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from slaportal.errors import DomainError

from .models import AuthorizedContact, Contract, Customer, Service


def _validated(obj: Any, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None


def customer_create(*, name: str, code: str, address: str = "", language: str = "zh-hans",
                    actor: Any = None) -> Customer:
    """A new customer organisation."""
    customer = Customer(name=name, code=code, address=address, language=language)
    _validated(customer)
    with transaction.atomic():
        customer.save()
        audit_record(obj=customer, action="create", actor=actor)
    return customer


def contract_create(
    *, customer: Customer, number: str, signed_at: datetime, monthly_fee: Decimal,
    installation_fee: Decimal = Decimal("0.00"), term_months: int = 12,
    starts_on: Any = None, exclude_unreported_outages: bool = True, actor: Any = None,
    now: datetime | None = None,
) -> Contract:
    """Record a signed contract and start its initial-installation clock (C3: within the
    policy's working days after signing). All or nothing: a contract whose installation
    deadline cannot be computed (an unknown calendar year) is not saved."""
    from sla.services import clock_start

    contract = Contract(
        customer=customer, number=number, signed_at=signed_at, monthly_fee=monthly_fee,
        installation_fee=installation_fee, term_months=term_months,
        starts_on=starts_on or timezone.localtime(signed_at).date(),
        exclude_unreported_outages=exclude_unreported_outages,
    )
    _validated(contract)
    with transaction.atomic():
        contract.save()
        audit_record(obj=contract, action="create", actor=actor, now=now)
        clock_start(subject=contract, policy_code="C3", contract=contract, started_at=signed_at,
                    label=_("Initial installation of %(number)s") % {"number": number},
                    actor=actor, reason="contract signed", now=now)
    return contract


def service_create(*, contract: Contract, kind: str, name: str, specialist: Any = None,
                   engineer: Any = None, actor: Any = None) -> Service:
    service = Service(contract=contract, customer_id=contract.customer_id, kind=kind, name=name,
                      specialist=specialist, engineer=engineer)
    _validated(service)
    with transaction.atomic():
        service.save()
        audit_record(obj=service, action="create", actor=actor)
    return service


CONTACT_FIELDS = ("name", "office_phone", "mobile", "pager", "fax", "email", "channels",
                  "priority", "language", "mrtg_username", "valid_from", "valid_until", "active")


def contact_save(*, customer: Customer, data: dict[str, Any], contact: AuthorizedContact | None = None,
                 mrtg_secret: str | None = None, actor: Any = None) -> AuthorizedContact:
    """Create or update an authorized contact. The MRTG secret is write-only: given, it is
    hashed; omitted, the stored hash stays. Every change is audited without the secret."""
    creating = contact is None
    contact = contact or AuthorizedContact(customer=customer)
    if contact.customer_id != customer.pk:
        raise DomainError(_("This contact belongs to another customer."))
    before = {f: getattr(contact, f) for f in CONTACT_FIELDS} if not creating else {}
    for f in CONTACT_FIELDS:
        if f in data:
            setattr(contact, f, data[f])
    if mrtg_secret:
        contact.set_mrtg_secret(mrtg_secret)
    _validated(contact, exclude=["customer"])
    changed = [f for f in CONTACT_FIELDS if creating or before.get(f) != getattr(contact, f)]
    with transaction.atomic():
        contact.save()
        audit_record(obj=contact, action="create" if creating else "change", actor=actor,
                     data={"fields": changed, "secret_changed": bool(mrtg_secret)})
    return contact
