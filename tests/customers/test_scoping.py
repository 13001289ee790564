"""Tenant scoping in one place: staff see every customer, a customer user only their own,
anonymous and unbound users nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from customers.models import Contract, Customer
from customers.selectors import (
    contact_list,
    contract_list,
    customer_list,
    scope_for_user,
    service_list,
    user_has_role,
    user_is_staff,
)
from sla.models import Clock
from sla.selectors import clock_list
from sla.services import clock_start
from tests import factories as f


@pytest.fixture
def world(alice, charlie):
    a = alice.customer_link.customer
    c = charlie.customer_link.customer
    ca = f.ContractFactory(customer=a)
    cc = f.ContractFactory(customer=c)
    f.ServiceFactory(contract=ca)
    f.ServiceFactory(contract=cc)
    f.AuthorizedContactFactory(customer=a)
    f.AuthorizedContactFactory(customer=c)
    clock_start(subject=ca, policy_code="C8", contract=ca)
    clock_start(subject=cc, policy_code="C8", contract=cc)
    return a, c


@pytest.mark.parametrize("role", ["specialist", "engineer", "dc_staff", "manager"])
def test_staff_see_every_customer(world, role, request):
    user = request.getfixturevalue(role)
    assert user_is_staff(user)
    assert customer_list(user=user).count() == 2
    assert contract_list(user=user).count() == 2
    assert service_list(user=user).count() == 2
    assert contact_list(user=user).count() == 2
    assert clock_list(user=user).count() == 2


def test_superuser_sees_everything(world):
    admin = f.UserFactory(is_superuser=True)
    assert user_is_staff(admin) and user_has_role(admin, "manager")
    assert customer_list(user=admin).count() == 2


def test_customer_user_sees_only_their_own(world, alice):
    a, c = world
    assert not user_is_staff(alice)
    assert list(customer_list(user=alice)) == [a]
    assert {x.customer_id for x in contract_list(user=alice)} == {a.pk}
    assert {x.customer_id for x in service_list(user=alice)} == {a.pk}
    assert {x.customer_id for x in contact_list(user=alice)} == {a.pk}
    assert {x.customer_id for x in clock_list(user=alice)} == {a.pk}
    # Another customer's object is simply not there (a 404 for the views), not a refusal.
    other = Contract.objects.get(customer=c)
    assert not contract_list(user=alice).filter(pk=other.pk).exists()


def test_customer_field_path_is_followed(world, alice):
    a, _ = world
    qs = scope_for_user(Clock.objects.all(), alice, customer_field="contract__customer")
    assert {x.contract.customer_id for x in qs} == {a.pk}


@pytest.mark.parametrize("who", ["anonymous", "unbound"])
def test_anonymous_and_unbound_users_see_nothing(world, who):
    user = AnonymousUser() if who == "anonymous" else f.UserFactory()
    assert not user_is_staff(user)
    assert not user_has_role(user, "manager")
    assert customer_list(user=user).count() == 0
    assert contract_list(user=user).count() == 0
    assert clock_list(user=user).count() == 0
    assert Customer.objects.count() == 2  # the data is there; the user just sees none of it


def test_a_user_in_a_non_role_group_is_not_staff(world):
    from django.contrib.auth.models import Group

    u = f.UserFactory()
    u.groups.add(Group.objects.create(name="newsletter"))
    assert not user_is_staff(u)
    assert customer_list(user=u).count() == 0


def test_roles_are_distinct(specialist, manager):
    assert user_has_role(manager, "manager") and not user_has_role(specialist, "manager")
    assert user_has_role(specialist, "manager", "specialist")
