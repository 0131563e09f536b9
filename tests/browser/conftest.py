"""Playwright (Python) driving Debian's Chromium, headless. One browser per test module;
one context per viewport, reused; a fresh page (tab) per test, so sessionStorage starts empty.

Never ``playwright install``: Chromium and the Japanese fonts come from ``make system-deps``,
axe-core from ``make browser-deps``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.core.directory import get_directory
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium

AXE_JS = PROJECT_ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = PROJECT_ROOT / "reports"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 375, "height": 740}
# A real answer can take a few seconds on a busy 2-core machine (Rasa + action server).
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=ANSWER_TIMEOUT_MS)
    with sync_playwright() as playwright:
        the_browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield the_browser
        the_browser.close()


@pytest.fixture(scope="module")
def desktop(browser):
    """Desktop context with the site's real CSP enforced."""
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(ANSWER_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="ja-JP", timezone_id="Asia/Tokyo",
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    context.set_default_timeout(ANSWER_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def axe_context(browser):
    """For the accessibility scan only: axe is injected as an inline script, which our own CSP
    (rightly) refuses, so this context bypasses CSP."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} missing: run `make browser-deps` (npm install axe-core)")
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP", bypass_csp=True)
    context.set_default_timeout(ANSWER_TIMEOUT_MS)
    yield context
    context.close()


class PageWatch:
    """Console errors, page errors and /api/chat requests seen by one page."""

    def __init__(self, page):
        self.errors = []
        self.chat_requests = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        # "Failed to load resource" repeats an HTTP error already recorded (or an aborted test route).
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
        page.on("response", lambda res: self.errors.append(f"HTTP {res.status} {res.url}")
                if res.status >= 400 and not res.url.endswith("/api/chat") else None)
        page.on("request", lambda req: self.chat_requests.append(req.post_data_json)
                if req.url.endswith("/api/chat") and req.method == "POST" else None)

    def sent_messages(self):
        return [body.get("message") for body in self.chat_requests if isinstance(body, dict)]


def _new_page(context):
    page = context.new_page()
    page.watch = PageWatch(page)
    return page


@pytest.fixture
def page(desktop):
    page = _new_page(desktop)
    yield page
    page.close()


@pytest.fixture
def phone_page(phone):
    page = _new_page(phone)
    yield page
    page.close()


@pytest.fixture(scope="session")
def reports_dir() -> Path:
    REPORTS.mkdir(exist_ok=True)
    return REPORTS


@pytest.fixture(scope="module")
def directory():
    return get_directory()


@pytest.fixture
def widget(page, web_url):
    """The demo page with the widget loaded (not yet opened)."""
    from tests.browser.widget import Widget
    return Widget(page).goto(web_url)
