"""Staff roles as Django groups with least-privilege permissions, kept in step on every migrate."""

from __future__ import annotations

from typing import Any

from .choices import Role

# app_label.codename; a codename missing (an app not yet migrated) is skipped, not an error.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SPECIALIST: [
        "access_requests.view_visit", "access_requests.add_visit",
        "customers.view_customer", "customers.view_contract", "customers.view_service",
        "customers.view_authorizedcontact", "customers.change_authorizedcontact",
        "customers.add_authorizedcontact",
        "sla.view_clock", "sla.view_slapolicy", "credits.view_credit", "credits.add_credit",
        "notifications.view_notification", "complaints.view_complaint",
        "operations.view_operationrequest", "operations.add_operationrequest",
        "orders.view_installationorder",
    ],
    Role.ENGINEER: [
        "access_requests.view_visit",
        "customers.view_customer", "customers.view_contract", "customers.view_service",
        "customers.view_authorizedcontact",
        "sla.view_clock", "sla.view_slapolicy", "credits.view_credit", "credits.add_credit",
        "notifications.view_notification", "complaints.view_complaint",
        "operations.view_operationrequest", "operations.add_operationrequest",
        "operations.view_authorization", "operations.view_phoneattempt",
        "orders.view_installationorder", "orders.change_installationorder",
    ],
    Role.DC_STAFF: [
        "access_requests.view_visit", "access_requests.add_visit", "access_requests.change_visit",
        "access_requests.view_room", "access_requests.view_datacentre",
        "customers.view_customer", "customers.view_service", "sla.view_clock",
        "orders.view_installationorder",
    ],
    Role.MANAGER: [
        "access_requests.view_visit", "access_requests.add_visit", "access_requests.change_visit",
        "access_requests.view_room", "access_requests.add_room", "access_requests.change_room",
        "access_requests.view_datacentre", "access_requests.add_datacentre",
        "access_requests.change_datacentre",
        "customers.view_customer", "customers.add_customer", "customers.change_customer",
        "customers.view_contract", "customers.add_contract", "customers.change_contract",
        "customers.view_service", "customers.add_service", "customers.change_service",
        "customers.view_authorizedcontact", "customers.add_authorizedcontact",
        "customers.change_authorizedcontact",
        "sla.view_clock", "sla.change_clock", "sla.view_slapolicy", "sla.change_slapolicy",
        "sla.view_contractpolicy", "sla.add_contractpolicy", "sla.change_contractpolicy",
        "sla.view_workdayoverride", "sla.add_workdayoverride", "sla.change_workdayoverride",
        "credits.view_credit", "credits.add_credit", "credits.change_credit",
        "credits.approve_credit",
        "notifications.view_notification", "audit.view_auditentry", "complaints.view_complaint",
        "operations.view_operationrequest", "operations.add_operationrequest",
        "operations.view_authorization", "operations.view_phoneattempt",
        "operations.view_phoneauthlock",
        "orders.view_installationorder", "orders.change_installationorder",
        "settlement.view_monthclose", "settlement.view_judgement", "settlement.view_monthlystatement",
    ],
}


def ensure_roles(**kwargs: Any) -> None:
    """post_migrate hook: create the four role groups and give them their permissions."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            p = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if p is not None:
                wanted.append(p)
        group.permissions.set(wanted)
