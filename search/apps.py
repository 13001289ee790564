from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """Free-text search over the workflows a user may see (one box in the header)."""

    name = "search"
    verbose_name = _("Search")
