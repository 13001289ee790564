"""Template helpers of the runtime app: the staff navigation links to the mailbox of the local mail
catcher only while the catcher's folder exists (a deployment without it shows no dead link)."""

from pathlib import Path

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def mailbox_url() -> str:
    """The mailbox URL when the mail catcher's folder exists, else ""."""
    if not Path(settings.MAILCATCHER_DIR).is_dir():
        return ""
    try:
        return reverse("runtime:mailbox")
    except NoReverseMatch:  # runtime.urls not included in this deployment's URLconf
        return ""
