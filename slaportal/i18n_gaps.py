"""Strings of Django's own templates that its zh-hans catalogue does not translate (the admin
index's table headers, new in Django 5.x). Marked here so `makemessages` keeps them in our
catalogue, which Django reads before its own (LOCALE_PATHS): the admin index is then Chinese."""

from django.utils.translation import gettext_noop

DJANGO_ADMIN_GAPS = [
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
]
