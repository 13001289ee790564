"""Tenant isolation, in one place. Every view and API endpoint gets its querysets from here.

Staff (any staff role, or a superuser) see every customer; a customer user sees only the
customer their login is bound to; anyone else sees nothing. Filtering (rather than a permission
check after the fetch) is what turns another customer's object into a 404, never a 403."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

from .choices import Role
from .models import AuthorizedContact, Contract, Customer, Service

M = TypeVar("M", bound=models.Model)

STAFF_ROLES = frozenset(Role.values)


def user_roles(user: Any) -> frozenset[str]:
    """The staff roles a user holds (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_sla_roles", None)
    if cached is None:
        _load_access(user)
        cached = user._sla_roles
    return cached


def _load_access(user: Any) -> None:
    """The user's roles, customer link and permissions in ONE query (a UNION), cached on the
    user object for the request: every request needs the roles, and most then ask for the
    customer (scoping) or a permission (least privilege), which would be three more queries.
    The permissions fill the caches ModelBackend.get_all_permissions() reads, with what it would
    compute (the user's own and their groups' permissions; nothing for an inactive user)."""
    from django.contrib.auth.models import Group
    from django.db import connections, router

    active = bool(getattr(user, "is_active", False))
    alias = router.db_for_read(Group)
    sql, params = _access_query(connections[alias].vendor, active=active)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [user.pk if p == _ANY_USER else p for p in params])
        rows = cursor.fetchall()
    user._sla_roles = frozenset(v for t, v in rows if t == "r")
    customers = [int(v) for t, v in rows if t == "c"]
    user._sla_customer_id = customers[0] if customers else None
    if active and not hasattr(user, "_perm_cache"):
        user._user_perm_cache = {v for t, v in rows if t == "u"}
        user._group_perm_cache = {v for t, v in rows if t == "g"}
        user._perm_cache = user._user_perm_cache | user._group_perm_cache


# The access query differs between users only by the user's id: the ORM writes it once per
# process (with this id in the user's place) and each request runs the SQL, which saves the
# compiling of a four-part UNION (about a millisecond and a half) on every request.
_ANY_USER = -7_240_513_913
_ACCESS_SQL: dict[tuple[str, bool], tuple[str, tuple[Any, ...]]] = {}


def _access_query(vendor: str, *, active: bool) -> tuple[str, tuple[Any, ...]]:
    cached = _ACCESS_SQL.get((vendor, active))
    if cached is not None:
        return cached
    from django.contrib.auth.models import Group, Permission
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from .models import CustomerUser

    def tag(t: str) -> Value:
        return Value(t, output_field=CharField())

    def perm_name() -> Concat:
        return Concat("content_type__app_label", tag("."), "codename", output_field=CharField())

    parts = [
        Group.objects.filter(user=_ANY_USER, name__in=sorted(STAFF_ROLES)).order_by().values_list(tag("r"), "name"),
        CustomerUser.objects.filter(user=_ANY_USER).order_by().values_list(
            tag("c"), Cast("customer_id", output_field=CharField())),
    ]
    if active:
        parts += [
            Permission.objects.filter(user=_ANY_USER).order_by().values_list(tag("u"), perm_name()),
            Permission.objects.filter(group__user=_ANY_USER).order_by().values_list(tag("g"), perm_name()),
        ]
    sql, params = parts[0].union(*parts[1:], all=True).query.sql_with_params()
    _ACCESS_SQL[(vendor, active)] = (sql, tuple(params))
    return sql, tuple(params)


def user_is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or user_roles(user)))


def user_has_role(user: Any, *roles: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_superuser or user_roles(user) & set(roles)))


def user_customer_id(user: Any) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_sla_customer_id"):
        user_roles(user)
    return user._sla_customer_id  # type: ignore[no-any-return]


def scope_for_user(qs: models.QuerySet[M], user: Any, *, customer_field: str = "customer") -> models.QuerySet[M]:
    """Restrict `qs` to what `user` may see. `customer_field` is the lookup path to the customer."""
    if user_is_staff(user):
        return qs
    cid = user_customer_id(user)
    if cid is None:
        return qs.none()
    key = "pk" if customer_field in ("", "self") else f"{customer_field}_id"
    return qs.filter(**{key: cid})


def customer_list(*, user: Any) -> models.QuerySet[Customer]:
    return scope_for_user(Customer.objects.all(), user, customer_field="self")


def contract_list(*, user: Any) -> models.QuerySet[Contract]:
    return scope_for_user(Contract.objects.select_related("customer"), user)


def service_list(*, user: Any) -> models.QuerySet[Service]:
    return scope_for_user(
        Service.objects.select_related("customer", "contract", "specialist", "engineer"), user)


def contact_list(*, user: Any) -> models.QuerySet[AuthorizedContact]:
    return scope_for_user(AuthorizedContact.objects.select_related("customer"), user)


def staff_users_with_role(role: str) -> models.QuerySet[Any]:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()
