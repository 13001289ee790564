"""Forms that fit the data (issue 14), in a real browser (static/js/forms.js): visitor rows added
and removed freely on the booking form; a staff form's contact drop-down follows the customer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _row(page: Any, i: int, name: str, number: str) -> None:
    page.fill(f"[name='visitors-{i}-name']", name)
    page.locator(f"[name='visitors-{i}-id_type']").select_option("passport")
    page.fill(f"[name='visitors-{i}-id_number']", number)


def test_visitor_rows_are_added_and_removed(login: Any) -> None:
    from access_requests.models import Visit
    from customers.models import Customer

    customer = Customer.objects.get(code="demo-huaxia")
    before = set(Visit.objects.filter(customer=customer).values_list("pk", flat=True))
    entry = (timezone.localtime() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)

    page = login("huaxia")
    page.goto("/visits/new/")
    rows = page.locator("[data-formset-rows] [data-formset-row]")
    initial = rows.count()
    page.locator("[name=room]").select_option(index=1)
    page.fill("[name=reason]", "浏览器测试：增删访客")
    page.locator("[name=activity]").select_option("operation")
    page.fill("[name=expected_entry_at]", entry.strftime("%Y-%m-%dT%H:%M"))
    page.fill("[name=expected_exit_at]", (entry + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    _row(page, 0, "甲访客", "E10000001")
    _row(page, 1, "乙访客", "E10000002")

    add = page.locator("[data-formset-add]")
    add.click()
    add.click()
    assert rows.count() == initial + 2
    assert page.locator("[name='visitors-TOTAL_FORMS']").input_value() == str(initial + 2)
    last, before_last = initial + 1, initial
    _row(page, before_last, "丁访客", "E10000004")
    _row(page, last, "戊访客", "E10000005")

    rows.nth(1).locator("[data-formset-remove]").click()  # 乙 leaves; the rows after it move up
    assert rows.count() == initial + 1
    assert page.locator("[name='visitors-TOTAL_FORMS']").input_value() == str(initial + 1)
    assert page.locator(f"[name='visitors-{initial}-name']").input_value() == "戊访客"

    with page.expect_navigation():
        page.click("form:has([name=reason]) button[type=submit]")
    errors = [e for e in page.locator(".errornote, .errorlist").all_inner_texts() if e.strip()]
    assert not errors, errors
    new = set(Visit.objects.filter(customer=customer).values_list("pk", flat=True)) - before
    assert len(new) == 1, page.url
    visit = Visit.objects.get(pk=new.pop())
    assert sorted(visit.visitors.values_list("name", flat=True)) == sorted(["甲访客", "丁访客", "戊访客"])


def test_contact_options_follow_the_chosen_customer(login: Any) -> None:
    from customers.models import AuthorizedContact, Customer

    huaxia = Customer.objects.get(code="demo-huaxia")
    jinlong = Customer.objects.get(code="demo-jinlong")
    assert AuthorizedContact.objects.filter(customer=jinlong, active=True).exists()

    page = login("specialist")
    page.goto("/complaints/new/")
    contact = page.locator("[name=complainant_contact]")

    def visible_customers() -> set[str]:
        return set(contact.evaluate(
            "s => Array.from(s.options).filter(o => o.dataset.customer && !o.hidden && !o.disabled)"
            ".map(o => o.dataset.customer)"))

    assert visible_customers() >= {str(huaxia.pk), str(jinlong.pk)}  # no customer chosen yet
    page.locator("[name=customer]").select_option(str(huaxia.pk))
    assert visible_customers() == {str(huaxia.pk)}
    first = contact.evaluate("s => Array.from(s.options).find(o => o.dataset.customer && !o.hidden).value")
    contact.select_option(first)
    page.locator("[name=customer]").select_option(str(jinlong.pk))
    assert visible_customers() == {str(jinlong.pk)}
    assert contact.input_value() == ""  # the other customer's contact is no longer chosen
    label = contact.evaluate("s => Array.from(s.options).find(o => !o.hidden && o.dataset.customer).text")
    assert f"（{jinlong.name}）" in label
