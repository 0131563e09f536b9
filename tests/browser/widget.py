"""The widget as a resident sees it, for the browser tests (``widget`` fixture in conftest)."""
from __future__ import annotations

import json

from playwright.sync_api import expect

INPUT_LABEL = "困っていることを書いてください"


class Widget:
    """The widget as a resident sees it (locators pierce the open shadow root)."""

    def __init__(self, page):
        self.page = page
        self.launcher = page.locator(".sw-launcher")
        self.dialog = page.get_by_role("dialog")
        self.log = page.get_by_role("log")
        self.input = page.get_by_role("textbox", name=INPUT_LABEL)
        self.send_button = page.locator(".sw-send")
        self.emergency = page.locator(".sw-toolbar").get_by_role("button", name="緊急のとき")
        self.restart = page.get_by_role("button", name="最初から")
        self.user_bubbles = page.locator(".sw-msg--user .sw-text")
        self.bot_bubbles = page.locator(".sw-msg--bot:not(.sw-typing)")
        self.quick = page.locator(".sw-quick__btn")
        self.errors = page.locator(".sw-error")

    def goto(self, url):
        self.page.goto(url + "/")
        expect(self.launcher).to_be_visible()
        return self

    def open(self, wait_greeting=True):
        self.launcher.click()
        expect(self.dialog).to_be_visible()
        if wait_greeting:
            self.wait_idle()
            expect(self.quick.first).to_be_visible()
        return self

    def wait_idle(self):
        expect(self.log).to_have_attribute("aria-busy", "false")

    def say(self, text):
        self.input.fill(text)
        self.input.press("Enter")
        self.wait_idle()

    def card(self, slug):
        return self.page.locator(f".sw-card[data-agency='{slug}']")

    def focused(self, locator):
        return locator.evaluate("el => el.getRootNode().activeElement === el")

    def storage(self):
        raw = self.page.evaluate(
            "() => Object.keys(sessionStorage).filter(k => k.startsWith('soudan-widget:v1:'))"
            ".map(k => sessionStorage.getItem(k))[0] || null")
        return json.loads(raw) if raw else None


def no_page_errors(page):
    assert page.watch.errors == [], page.watch.errors
