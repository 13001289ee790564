"""factory-boy factories shared by every app's tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers.models import AuthorizedContact, Contract, Customer, CustomerUser, Service

TZ = ZoneInfo("Asia/Shanghai")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.django.Password("pw-for-tests-1")


class StaffFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    """A staff user in one role group: StaffFactory(role="manager")."""

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            group, _ = Group.objects.get_or_create(name=extracted or "specialist")
            obj.groups.add(group)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"客户{n} Customer {n}")
    code = factory.Sequence(lambda n: f"cust-{n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"HT-2026-{n:04d}")
    signed_at = datetime(2026, 1, 5, 10, 0, tzinfo=TZ)
    starts_on = factory.LazyAttribute(lambda o: o.signed_at.date())
    monthly_fee = Decimal("3100.00")
    installation_fee = Decimal("500.00")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    contract = factory.SubFactory(ContractFactory)
    kind = "colocation"
    name = factory.Sequence(lambda n: f"托管服务器 {n}")


class AuthorizedContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuthorizedContact
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"授权人{n}")
    mobile = "13800000000"
    email = factory.Sequence(lambda n: f"contact{n}@customer.test")
    channels = ["mobile", "email"]
    mrtg_username = "mrtg-user"

    @factory.post_generation
    def secret(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        obj.set_mrtg_secret(extracted or "mrtg-secret")
        if create:
            obj.save()


class CustomerUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerUser

    user = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)


class MailPlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "mailservice.MailPlatform"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"邮件平台{n}")


class MailDomainFactory(factory.django.DjangoModelFactory):
    """A mail domain of an e-mail service (the service is created as kind email)."""

    class Meta:
        model = "mailservice.MailDomain"

    domain = factory.Sequence(lambda n: f"mail{n}.example.cn")
    service = factory.SubFactory(ServiceFactory, kind="email")
    platform = factory.SubFactory(MailPlatformFactory)
