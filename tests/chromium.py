"""Debian's Chromium driven by Playwright (never ``playwright install``): where it is, how it is
started, and a staff page logged in with JavaScript off (the staff pages must work without it)."""
from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def require_chromium() -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} not found: run `make system-deps` (Debian's chromium package)")


@contextmanager
def staff_page(base_url: str, username: str, password: str):
    """A Chromium page (JavaScript off, Japanese locale) logged in to /staff as ``username``."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(java_script_enabled=False, locale="ja-JP", timezone_id="Asia/Tokyo")
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.goto(base_url + "/staff/")
            expect(page).to_have_url(re.compile(r"/staff/login"))
            page.get_by_label("ユーザー名").fill(username)
            page.get_by_label("パスワード").fill(password)
            page.get_by_role("button", name="ログイン").click()
            expect(page.get_by_role("heading", name="受付一覧")).to_be_visible()
            yield page
        finally:
            browser.close()
