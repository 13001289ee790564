"""The form renderer (settings.FORM_RENDERER): Django's, with <select> written in Python.

Django renders a <select> through a template per <option> (select.html includes
select_option.html and attrs.html for each): a filter form with the 200 customers and the staff
of a provider cost the overdue review 9 ms of its 57. The same markup, escaped the same way, is
written here; every other widget keeps its template."""

from __future__ import annotations

import html
from typing import Any

from django.forms.renderers import DjangoTemplates

SELECT_TEMPLATES = frozenset({"django/forms/widgets/select.html"})
OPTION_TEMPLATES = frozenset({"django/forms/widgets/select_option.html"})


def _text(value: Any) -> str:
    """As the template language writes {{ value|stringformat:'s' }}: str(), escaped."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value), quote=True)


def _attrs(attrs: dict[str, Any]) -> str:
    """As django/forms/widgets/attrs.html: True is a bare name, False is left out."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_text(value)}"')
    return "".join(out)


class FastSelectRenderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget")
        if template_name in SELECT_TEMPLATES and widget is not None and all(
                option.get("template_name") in OPTION_TEMPLATES
                for _group, options, _index in widget["optgroups"] for option in options):
            return self._select(widget)
        return super().render(template_name, context, request=request)

    @staticmethod
    def _select(widget: dict[str, Any]) -> str:
        parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            for o in options:
                parts.append(f'\n  <option value="{_text(o["value"])}"{_attrs(o["attrs"])}>'
                             f'{_text(o["label"])}</option>')
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
