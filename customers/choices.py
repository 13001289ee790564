from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    RENTAL = "rental", _("Server rental")
    COLOCATION = "colocation", _("Colocation")
    RACK = "rack", _("Rack rental")
    EMAIL = "email", _("Enterprise e-mail")


class ContactChannel(models.TextChoices):
    OFFICE_PHONE = "office_phone", _("Office phone")
    MOBILE = "mobile", _("Mobile")
    PAGER = "pager", _("Pager")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-mail")


class Role(models.TextChoices):
    """Staff roles are Django groups of these names; customers are bound by CustomerUser."""

    SPECIALIST = "specialist", _("Customer-service specialist")
    ENGINEER = "engineer", _("Technical engineer")
    DC_STAFF = "dc_staff", _("Data-centre staff")
    MANAGER = "manager", _("Manager")


class Language(models.TextChoices):
    ZH = "zh-hans", "简体中文"
    EN = "en", "English"
