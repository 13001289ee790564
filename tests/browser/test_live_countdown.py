"""Live clocks in a real browser (static/js/live.js): a running clock's countdown ticks without a
reload, and a breach recorded by the sweep shows on the open page within one refresh (10 s).
Any console error or server error in the browser fails the test (see conftest.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The page must be open this long before the countdown's next minute boundary, and no longer
# than the 3 s the test gives the countdown to change.
LEAD = 2.0


def _huaxia_clock(seconds_left: float) -> Any:
    """A running C8 (24-hour) clock of the demo customer 华夏 due in `seconds_left` seconds."""
    from customers.models import Contract
    from sla.services import clock_start

    contract = Contract.objects.filter(customer__code="demo-huaxia").order_by("pk").first()
    assert contract is not None
    t0 = timezone.now() - timedelta(hours=24) + timedelta(seconds=seconds_left)
    return clock_start(subject=contract, policy_code="C8", contract=contract, started_at=t0, now=t0,
                       label="浏览器测试：实时倒计时")


def test_the_countdown_ticks_and_a_breach_shows_without_a_reload(login: Any) -> None:
    from playwright.sync_api import expect

    from sla.choices import ClockState
    from sla.models import Clock
    from sla.services import clocks_sweep

    page = login("huaxia")
    clock = _huaxia_clock(120 + LEAD)
    countdown = page.locator(f'span.countdown[data-clock="{clock.pk}"]')
    # The server renders "剩余 2 分钟"; the page must be up before the clock's 2-minute mark. On a
    # slow machine the first load may come too late: move the deadline and open the page again.
    for _attempt in range(3):
        page.goto(f"/sla/clocks/{clock.pk}/")
        left = (clock.due_at - timezone.now()).total_seconds()
        if 120.3 < left:
            break
        clock.due_at = timezone.now() + timedelta(seconds=120 + LEAD)
        Clock.objects.filter(pk=clock.pk).update(due_at=clock.due_at)
    else:
        pytest.fail("the clock page never loaded within 1.7 s")
    expect(countdown).to_have_text("剩余 2 分钟")
    # live.js re-renders it every second, in the server's wording, without a reload.
    expect(countdown).to_have_text("剩余 1 分钟", timeout=3_000)

    # The sweep breaches the clock (committed): the next refresh (every 10 s) shows it.
    assert clock.pk in clocks_sweep(now=clock.due_at).breached
    with translation.override("zh-hans"):
        breached = str(ClockState.BREACHED.label)
    pill = page.locator(f'[data-clock-pill="{clock.pk}"]')
    expect(pill).to_have_text(breached, timeout=15_000)
    expect(pill).to_have_class(re.compile(r"\bbreached\b"))
    expect(countdown).to_have_class(re.compile(r"\blate\b"))
    expect(countdown).to_have_text(re.compile(r"^超时 "))
    assert page.url.endswith(f"/sla/clocks/{clock.pk}/")
