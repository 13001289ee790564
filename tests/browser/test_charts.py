"""The charts draw in a real browser (headless chromium) with the demo data: the customer's downtime
page (availability bars and the outage timeline, SVG drawn by static/js/charts.js), a monitored
target's page (the response-time line, a uPlot canvas) and the breach history (stacked bars) for
the manager. Each chart must be drawn with a non-zero size and no console error (conftest.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _size(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} not rendered on {page.url}"
    return box["width"], box["height"]


def test_customer_downtime_page_and_target_page_draw_their_charts(login: Any) -> None:
    from django.contrib.auth import get_user_model

    from customers.models import Service
    from customers.selectors import user_customer_id
    from monitoring.models import ProbeHourly, Target

    # jinlong: the demo customer whose services are monitored.
    jinlong = get_user_model().objects.get(username="jinlong")
    target = Target.objects.filter(customer_id=user_customer_id(jinlong)).order_by("pk").first()
    assert target is not None
    service = Service.objects.get(pk=target.service_id)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    ProbeHourly.objects.bulk_create([ProbeHourly(target=target, hour=hour - timedelta(hours=i), ok_count=12,
                                                 ok_total_ms=12 * (40 + i), ok_max_ms=90) for i in range(24)])

    page = login("jinlong")
    page.goto(f"/incidents/services/{service.pk}/downtime/")
    page.wait_for_selector("#availability-chart.chart-drawn svg")
    width, height = _size(page, "#availability-chart svg")
    assert width > 300 and height > 100
    assert page.locator("#availability-chart .chart-bar").count() >= 1
    assert page.locator("#availability-chart .chart-legend li").count() == 3
    page.wait_for_selector("#timeline-chart.chart-drawn svg")
    width, height = _size(page, "#timeline-chart svg")
    assert width > 300 and height > 40

    page.goto(f"/monitoring/{target.pk}/")
    page.wait_for_selector("#latency-chart.chart-drawn canvas")
    width, height = _size(page, "#latency-chart canvas")
    assert width > 300 and height > 100
    assert page.locator("#uptime-hours span").count() == 24


def test_manager_sees_breaches_per_promise_and_month(login: Any) -> None:
    page = login("manager")
    page.goto("/sla/breaches/")
    page.wait_for_selector("#breach-chart.chart-drawn svg")
    width, height = _size(page, "#breach-chart svg")
    assert width > 300 and height > 100
    assert page.locator("#breach-chart .chart-cat").count() == 12
