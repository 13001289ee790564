"""Writes for customers, contracts, services, authorized contacts and customer users. Each one
validates the whole row, saves and appends its audit row (changed fields with old and new values,
never a secret) in one transaction; the pages, the API and the admin all come through here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audited_delete, audited_save
from slaportal.errors import ConflictError, DomainError

from .models import AuthorizedContact, Contract, Customer, CustomerUser, Service


def _validated(obj: Any, *, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None


CUSTOMER_FIELDS = ("name", "code", "address", "language")


def customer_create(*, name: str, code: str, address: str = "", language: str = "zh-hans",
                    actor: Any = None) -> Customer:
    """A new customer organisation."""
    return customer_save(data={"name": name, "code": code, "address": address, "language": language},
                         actor=actor)


def customer_save(*, data: dict[str, Any], customer: Customer | None = None, actor: Any = None,
                  now: datetime | None = None) -> Customer:
    """Create or change a customer organisation (name, code, address, language)."""
    obj = customer or Customer()
    audited_save(obj=obj, fields=CUSTOMER_FIELDS, data=data, actor=actor, now=now)
    return obj


def customer_delete(*, customer: Customer, actor: Any = None, now: datetime | None = None) -> None:
    """Delete a customer that nothing refers to yet (a mistaken entry); audited with its values.
    One with contracts, contacts, users or any record is refused."""
    audited_delete(obj=customer, actor=actor, now=now)


CONTRACT_FIELDS = ("customer", "number", "signed_at", "starts_on", "term_months", "monthly_fee",
                   "installation_fee", "exclude_unreported_outages")


def contract_create(
    *, customer: Customer, number: str, signed_at: datetime, monthly_fee: Decimal,
    installation_fee: Decimal = Decimal("0.00"), term_months: int = 12,
    starts_on: Any = None, exclude_unreported_outages: bool = True, actor: Any = None,
    now: datetime | None = None,
) -> Contract:
    """Record a signed contract. Its initial-installation promise (C3) runs on the installation
    order of each hosting service added under it (orders app), not on the contract: a contract
    has nothing to install until it has a service, and any signing date can be recorded (a
    year the working-day calendar does not know yet only leaves the orders' deadlines pending)."""
    contract = Contract(
        customer=customer, number=number, signed_at=signed_at, monthly_fee=monthly_fee,
        installation_fee=installation_fee, term_months=term_months,
        starts_on=starts_on or timezone.localtime(signed_at).date(),
        exclude_unreported_outages=exclude_unreported_outages,
    )
    _validated(contract)
    with transaction.atomic():
        audited_save(obj=contract, fields=CONTRACT_FIELDS, data={}, actor=actor, now=now)
    return contract


def contract_has_clocks(contract: Contract) -> bool:
    """Whether any SLA clock belongs to the contract (by its contract or as its subject)."""
    from django.contrib.contenttypes.models import ContentType

    from sla.models import Clock

    ct = ContentType.objects.get_for_model(Contract)
    return Clock.objects.filter(models.Q(contract=contract) | models.Q(content_type=ct, object_id=contract.pk)).exists()


def contract_change(*, contract: Contract, data: dict[str, Any], actor: Any = None,
                    now: datetime | None = None) -> Contract:
    """Correct a contract's terms. The customer never changes (its services, clocks and credits
    are that customer's); the signing date is fixed once a clock has started from it (C3's
    deadline was computed from it and is evidence)."""
    if "customer" in data and data["customer"] is not None and data["customer"].pk != contract.customer_id:
        raise DomainError(_("Please correct the errors below."), field_errors={
            "customer": [_("A contract cannot move to another customer.")]})
    if "signed_at" in data and data["signed_at"] != contract.signed_at and contract_has_clocks(contract):
        raise DomainError(_("Please correct the errors below."), field_errors={
            "signed_at": [_("SLA clocks have started from this signing date; it can no longer be changed.")]})
    fields = tuple(f for f in CONTRACT_FIELDS if f != "customer")
    audited_save(obj=contract, fields=fields, data=data, actor=actor, now=now)
    return contract


def contract_delete(*, contract: Contract, actor: Any = None, now: datetime | None = None) -> None:
    """Delete a contract entered by mistake, audited with its values. A contract with SLA clocks,
    services, credits or policy overrides is evidence and is refused."""
    if contract_has_clocks(contract):
        raise ConflictError(_("Contract %(number)s has SLA clocks; it is evidence and cannot be deleted.")
                            % {"number": contract.number})
    audited_delete(obj=contract, actor=actor, now=now)


SERVICE_FIELDS = ("contract", "kind", "name", "specialist", "engineer", "room", "rack_row", "uplink",
                  "active")


def service_create(*, contract: Contract, kind: str, name: str, specialist: Any = None,
                   engineer: Any = None, room: str = "", rack_row: str = "", uplink: str = "",
                   actor: Any = None, now: datetime | None = None) -> Service:
    """A new service under a contract (its customer is the contract's)."""
    return service_save(data={"contract": contract, "kind": kind, "name": name,
                              "specialist": specialist, "engineer": engineer, "room": room,
                              "rack_row": rack_row, "uplink": uplink}, actor=actor, now=now)


def service_save(*, data: dict[str, Any], service: Service | None = None, actor: Any = None,
                 now: datetime | None = None) -> Service:
    """Create or change a service. It may move to another contract of the same customer, never
    to another customer's (its outages, incidents and credits stay that customer's). A new
    service is announced after commit (signals.service_created): the orders app opens its
    installation order and starts C3 there."""
    obj = service or Service()
    creating = obj.pk is None
    new_contract = data.get("contract")
    if obj.pk is not None and new_contract is not None and new_contract.customer_id != obj.customer_id:
        raise DomainError(_("Please correct the errors below."), field_errors={
            "contract": [_("A service cannot move to another customer's contract.")]})
    if new_contract is not None:
        obj.customer_id = new_contract.customer_id
    with transaction.atomic():
        audited_save(obj=obj, fields=SERVICE_FIELDS, data=data, actor=actor, now=now)
        if creating:
            _announce_service(obj, actor=actor, now=now)
    return obj


def _announce_service(service: Service, *, actor: Any, now: datetime | None) -> None:
    from .signals import service_created

    created_at = now or timezone.now()
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    service_id = service.pk
    # robust: the service is committed whatever a listener does; a listener that fails is logged
    # (and orders.tasks.reconcile opens any installation order that is missing).
    transaction.on_commit(lambda: service_created.send(
        sender=Service, service_id=service_id, created_at=created_at, actor_id=actor_id), robust=True)


def service_delete(*, service: Service, actor: Any = None, now: datetime | None = None) -> None:
    """Delete a service entered by mistake, audited with its values; one that outages, incidents,
    monitoring targets or any record refer to is refused (switch it off with `active`)."""
    audited_delete(obj=service, actor=actor, now=now)


CONTACT_FIELDS = ("name", "office_phone", "mobile", "pager", "fax", "email", "channels",
                  "priority", "language", "mrtg_username", "receives_statements", "valid_from",
                  "valid_until", "active")


def contact_save(*, customer: Customer, data: dict[str, Any], contact: AuthorizedContact | None = None,
                 mrtg_secret: str | None = None, actor: Any = None,
                 now: datetime | None = None) -> AuthorizedContact:
    """Create or update an authorized contact. The MRTG secret is write-only: given, it is
    hashed; omitted, the stored hash stays. Every change is audited with old and new values; the
    secret only as "changed"."""
    contact = contact or AuthorizedContact(customer=customer)
    if contact.customer_id != customer.pk:
        raise DomainError(_("This contact belongs to another customer."))
    fields: tuple[str, ...] = CONTACT_FIELDS
    values = dict(data)
    if mrtg_secret:
        # Hashed exactly as AuthorizedContact.set_mrtg_secret does; the audit row says "changed".
        fields += ("mrtg_secret_hash",)
        values["mrtg_secret_hash"] = make_password(mrtg_secret)
    audited_save(obj=contact, fields=fields, data=values, actor=actor, now=now, exclude=["customer"],
                 extra={"secret_changed": bool(mrtg_secret)}, redact=("mrtg_secret_hash",))
    return contact


def contact_delete(*, contact: AuthorizedContact, actor: Any = None, now: datetime | None = None) -> None:
    """Delete a contact entered by mistake, audited with its values (never the secret). One that
    requested or authorized work, or was notified, is evidence and is refused: end its validity
    instead."""
    audited_delete(obj=contact, actor=actor, now=now)


CUSTOMER_USER_FIELDS = ("user", "customer", "is_customer_admin")


def customer_user_save(*, data: dict[str, Any], link: CustomerUser | None = None, actor: Any = None,
                       now: datetime | None = None) -> CustomerUser:
    """Bind a login to one customer (or change the binding). A staff account never becomes a
    customer user: it would see one customer's data through the customer's eyes and staff pages
    with another's."""
    from .selectors import user_is_staff

    obj = link or CustomerUser()
    user = data.get("user", obj.user if obj.user_id else None)
    if user is not None and user_is_staff(user):
        raise DomainError(_("Please correct the errors below."), field_errors={
            "user": [_("A staff account cannot be a customer user.")]})
    audited_save(obj=obj, fields=CUSTOMER_USER_FIELDS, data=data, actor=actor, now=now)
    return obj


def customer_user_delete(*, link: CustomerUser, actor: Any = None, now: datetime | None = None) -> None:
    """Remove a login's binding to its customer (the login itself stays, with no customer data)."""
    audited_delete(obj=link, actor=actor, now=now)
