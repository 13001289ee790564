"""slaportal.renderers.FastSelectRenderer writes a <select> as Django's own templates do: the
same elements, attributes, selection and escaping (compared as parsed HTML)."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.test.html import parse_html

from slaportal.renderers import FastSelectRenderer

CHOICES = [("", "全部"), ("a", 'A <b>"bold"</b> & co'), ("b", "乙")]
GROUPED = [("", "—"), ("组一", [("1", "一"), ("2", "二")]), ("组<二>", [("3", "三")])]


class Filters(forms.Form):
    plain = forms.ChoiceField(choices=CHOICES, required=False)
    grouped = forms.ChoiceField(choices=GROUPED, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES[1:], required=False)
    flag = forms.NullBooleanField(required=False)
    with_attrs = forms.ChoiceField(choices=CHOICES, required=False, widget=forms.Select(
        attrs={"data-autosubmit": True, "disabled": False, "class": 'x" onload="y'}))


@pytest.mark.parametrize("data", [None, {"plain": "a", "grouped": "3", "many": ["a", "b"], "flag": "true",
                                         "with_attrs": "b"}])
def test_the_same_markup_as_djangos_templates(data, monkeypatch):
    fast = Filters(data, renderer=FastSelectRenderer())
    slow = Filters(data, renderer=DjangoTemplates())
    templated: list[str] = []
    real = DjangoTemplates.render

    def spy(self, template_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        templated.append(template_name)
        return real(self, template_name, *args, **kwargs)

    monkeypatch.setattr(DjangoTemplates, "render", spy)
    mine = {name: str(fast[name]) for name in Filters.base_fields}
    assert not any("select" in t for t in templated), templated  # no <select> went through a template
    for name in Filters.base_fields:
        theirs = str(slow[name])
        assert parse_html(mine[name]) == parse_html(theirs), (name, mine[name], theirs)
    assert "<b>" not in mine["plain"] and 'onload="y"' not in mine["with_attrs"]


def test_it_is_the_portals_renderer(settings):
    assert settings.FORM_RENDERER == "slaportal.renderers.FastSelectRenderer"
    assert isinstance(forms.Form().renderer or forms.renderers.get_default_renderer(), FastSelectRenderer)
