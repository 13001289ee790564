"""Browser fixtures: Playwright's Python package driving Debian's chromium (/usr/bin/chromium,
installed by scripts/bootstrap.sh dev; Playwright's own browser download is never used) against
pytest-django's live_server with the demo data loaded.

Every page a test opens is watched: a browser console error, an uncaught page error or any HTTP
response >= 500 fails the test at teardown. When a test fails, a screenshot and the page's HTML are
saved under $SLAPORTAL_VAR_DIR/ci-artifacts/ (var/ci-artifacts/ without it) and their paths
printed, so CI can keep them as artefacts.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("SLAPORTAL_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "slaportal-demo"
# Per-action timeout: generous for a loaded CI machine, short enough that a missing element fails
# the test quickly instead of eating the whole suite's time.
TIMEOUT_MS = 15_000


def artifacts_dir() -> Path:
    base = os.environ.get("SLAPORTAL_VAR_DIR") or str(Path(settings.BASE_DIR) / "var")
    return Path(base) / "ci-artifacts"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the test item: the page fixture's teardown needs to know
    # whether the test body failed, to save the screenshot.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless chromium per test module (a launch costs about a second)."""
    from playwright.sync_api import sync_playwright

    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(f"{CHROMIUM} not found: run `scripts/bootstrap.sh dev` (installs Debian's chromium)")
    # Playwright's sync API keeps its asyncio loop registered as running in this thread, so
    # Django's async-safety guard would refuse the tests' own ORM calls. They are plain
    # synchronous calls (the loop only talks to the browser), so the guard is lifted while the
    # browser runs, and only then: module scope keeps it from leaking into other test modules.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def demo(live_server: Any) -> str:
    """The demo data (customers, one login per role, a little of every workflow) in the test
    database; returns the live server's base URL."""
    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO(), stderr=io.StringIO())
    return str(live_server.url)


@dataclass
class Watch:
    """What went wrong in the browser while a test ran: console errors, page errors, 5xx."""

    problems: list[str] = field(default_factory=list)
    pages: list[Any] = field(default_factory=list)
    # URLs a test opens expecting a 4xx (another customer's page): chromium logs "Failed to load
    # resource" for them as a console error, which is then not a problem.
    expected_errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Iterator[Watch]:
    """The problems seen in the browser; any fails the test when it ends."""
    w = Watch()
    yield w
    if w.problems:
        pytest.fail("browser problems:\n  " + "\n  ".join(w.problems))


def _save_artifacts(request: pytest.FixtureRequest, w: Watch) -> None:
    """A screenshot and the HTML of every page still open, when the test failed or the browser
    reported a problem (called before the pages are closed)."""
    rep = getattr(request.node, "rep_call", None)
    if not (rep is None or rep.failed or w.problems):
        return
    out = artifacts_dir()
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for i, page in enumerate(w.pages):
        if page.is_closed():
            continue
        stem = out / f"{name}-{i}"
        try:
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
            print(f"\n[browser] failure artefacts: {stem}.png {stem}.html (at {page.url})")
        except Exception as e:  # a crashed page: say so, keep the original failure
            print(f"\n[browser] could not save artefacts for {page.url}: {e}")


@pytest.fixture
def login(request: pytest.FixtureRequest, chromium: Any, demo: str,
          watch: Watch) -> Iterator[Callable[[str], Any]]:
    """login(username) -> a Playwright page signed in as that demo user, in its own browser
    context (own cookies), with the problem listeners attached."""
    contexts: list[Any] = []

    def _login(username: str) -> Any:
        context = chromium.new_context(base_url=demo, locale="zh-CN", accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        watch.pages.append(page)
        who = username

        def on_console(msg: Any) -> None:
            where = (msg.location or {}).get("url", "")
            if msg.type == "error" and not any(where.endswith(u) for u in watch.expected_errors):
                watch.problems.append(f"{who}: console error on {page.url} ({where}): {msg.text}")

        def on_response(response: Any) -> None:
            if response.status >= 500:
                watch.problems.append(f"{who}: HTTP {response.status} for {response.request.method} "
                                      f"{response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: watch.problems.append(f"{who}: page error on {page.url}: {exc}"))
        page.on("response", on_response)
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("form:has(input[name=password]) [type=submit]")
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, f"{username} could not sign in"
        return page

    yield _login
    _save_artifacts(request, watch)
    for context in contexts:
        context.close()
