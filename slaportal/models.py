"""Model helpers every app may use (no models of its own: slaportal is not an installed app)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.encoding import force_str

# field -> {stored value: label (lazy)}; choices are fixed in code, so built once per process.
_LABELS: dict[models.Field[Any, Any], dict[Any, Any]] = {}


class FastChoiceDisplay:
    """`get_<field>_display()` at the cost of one dictionary lookup and one translation.

    Django's own builds a dictionary of every choice on every call, hashing each lazy label,
    which translates it: a list of 50 rows with three labelled columns spent about a tenth of its
    time there. Listed before models.Model in a model's bases, this is the `_get_FIELD_display`
    Django binds the `get_<field>_display` methods to; the result is the same."""

    def _get_FIELD_display(self, field: models.Field[Any, Any]) -> Any:
        value = getattr(self, field.attname)
        labels = _LABELS.get(field)
        if labels is None:
            labels = _LABELS[field] = {k: v for k, v in field.flatchoices}
        try:
            label = labels.get(value, value)
        except TypeError:  # an unhashable value (a list in a JSON field) has no label
            label = value
        return force_str(label, strings_only=True)
