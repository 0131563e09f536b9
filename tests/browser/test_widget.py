"""The chat widget on the demo page, in Debian's Chromium, against the real stack
(action server + Rasa + web side, started once by the ``stack`` fixture).

Expected phone numbers and names are read from the directory data, never written here.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from bot.core.replies import offline_text, service_unavailable_text
from bot.web.config import Settings
from tests.browser.conftest import AXE_JS
from tests.browser.widget import Widget, no_page_errors

pytestmark = [pytest.mark.stack, pytest.mark.browser]

ELDERLY_WORRY = "母の物忘れがひどくて心配です"
CRISIS_WORRY = "もう死にたいです"
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>&lt;b&gt;'


# --- the main path -----------------------------------------------------------------------------

def test_elderly_worry_shows_the_kakehashi_card_with_a_tel_link(widget, page, directory):
    kakehashi = directory.agency("kakehashi")
    expect(widget.launcher).to_have_accessible_name(re.compile("相談"))
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    widget.open()
    # Dialog semantics, a polite live log, a labelled textarea.
    expect(widget.dialog).to_have_accessible_name("北斗市 困りごと相談の案内")
    expect(widget.log).to_have_attribute("aria-live", "polite")
    assert widget.input.evaluate("el => el.tagName") == "TEXTAREA"
    assert page.watch.sent_messages() == ["/greet"]
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")

    widget.say(ELDERLY_WORRY)
    expect(widget.user_bubbles.last).to_have_text(ELDERLY_WORRY)
    card = widget.card("kakehashi")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name=kakehashi.name)).to_be_visible()
    expect(card).to_contain_text(kakehashi.address)
    tel = card.locator("a[href^='tel:']")
    expect(tel).to_have_count(1)
    expect(tel).to_have_attribute("href", kakehashi.tel)
    expect(tel).to_have_text(kakehashi.phone)
    expect(tel).to_be_visible()
    expect(tel).to_have_accessible_name(re.compile(re.escape(kakehashi.phone)))
    expect(card).to_contain_text("受付時間")
    assert widget.input.input_value() == ""
    assert page.watch.sent_messages() == ["/greet", ELDERLY_WORRY]
    no_page_errors(page)  # includes CSP violations: the widget runs under the site's strict CSP


def test_enter_during_ime_composition_does_not_send(widget, page):
    widget.open()
    sent_before = len(page.watch.chat_requests)
    widget.input.fill("ははのものわすれ")
    # An IME is converting: compositionstart, then the Enter that confirms the kanji.
    widget.input.dispatch_event("compositionstart", {"data": ""})
    widget.input.dispatch_event("keydown", {"key": "Enter", "code": "Enter", "isComposing": True,
                                            "bubbles": True, "cancelable": True})
    widget.input.dispatch_event("compositionend", {"data": "母の物忘れ"})
    # Safari-style: the confirming Enter arrives after compositionend, with keyCode 229.
    widget.input.evaluate("""el => {
        const e = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true});
        Object.defineProperty(e, 'keyCode', {get: () => 229});
        el.dispatchEvent(e);
    }""")
    # Composition still open (no compositionend yet): a plain Enter must not send either.
    widget.input.dispatch_event("compositionstart", {"data": ""})
    widget.input.press("Enter")
    widget.input.dispatch_event("compositionend", {"data": ""})
    assert len(page.watch.chat_requests) == sent_before
    expect(widget.user_bubbles).to_have_count(0)
    assert widget.input.input_value().startswith("ははのものわすれ")

    # Shift+Enter adds a line; nothing is sent.
    widget.input.fill("1行目")
    widget.input.press("Shift+Enter")
    widget.input.type("2行目")
    assert widget.input.input_value() == "1行目\n2行目"
    assert len(page.watch.chat_requests) == sent_before

    # After the composition, Enter sends (and the line break is kept in the bubble).
    widget.input.press("Enter")
    widget.wait_idle()
    expect(widget.user_bubbles).to_have_count(1)
    assert widget.user_bubbles.first.inner_text() == "1行目\n2行目"
    assert page.watch.sent_messages()[-1] == "1行目\n2行目"


def test_html_from_the_resident_is_shown_as_text(widget, page):
    widget.open()
    widget.say(XSS)
    expect(widget.user_bubbles.last).to_have_text(XSS)
    assert page.locator("#soudan-widget img, #soudan-widget script").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    no_page_errors(page)


def test_html_and_bad_links_from_the_server_are_shown_as_text(widget, page, directory):
    """Even a tampered answer cannot inject markup or a javascript: link."""
    evil = [
        {"text": XSS, "buttons": [{"title": "<b>ボタン</b>", "payload": "/greet"}]},
        {"text": "x", "custom": {"type": "agency_card", "intro": "<i>intro</i>", "agency": {
            "slug": "x'><script>window.__pwned=3</script>", "name": "<img src=x onerror=window.__pwned=4>",
            "helps_with": "<u>h</u>", "address": "<a href='javascript:alert(1)'>addr</a>",
            "phone": "javascript:alert(1)", "tel": "javascript:window.__pwned=5", "hours_text": "<b>h</b>"}}},
        {"text": "y", "custom": {"type": "crisis", "heading": "<h1>見出し</h1>", "lines": [
            {"id": "a", "name": "<svg onload=window.__pwned=6>", "number": "110", "tel": "javascript:1",
             "hours": "<br>", "note": "<hr>", "always_open": True}]}},
    ]
    widget.open()
    page.route("**/api/chat", lambda route: route.fulfill(status=200, json=evil))
    widget.say("テスト")
    expect(widget.bot_bubbles.filter(has_text=XSS)).to_have_count(1)
    expect(page.get_by_role("button", name="<b>ボタン</b>")).to_be_visible()
    expect(page.get_by_role("heading", name="<img src=x onerror=window.__pwned=4>")).to_be_visible()
    links = page.locator("#soudan-widget a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert links and all(re.fullmatch(r"tel:(\+?[0-9]+|%23[0-9]+)", href) for href in links), links
    assert page.locator("#soudan-widget img, #soudan-widget script, #soudan-widget h1, "
                        "#soudan-widget hr, #soudan-widget br").count() == 0
    assert page.locator(".sw-log svg:not(.sw-icon)").count() == 0
    assert page.evaluate("() => window.__pwned") is None
    page.unroute("**/api/chat")


# --- history, restart ----------------------------------------------------------------------------

def test_reload_keeps_the_conversation_and_start_over_clears_it(widget, page):
    widget.open()
    widget.say(ELDERLY_WORRY)
    expect(widget.card("kakehashi")).to_be_visible()
    before = widget.storage()
    assert before and before["open"] is True
    requests_before = len(page.watch.chat_requests)

    page.reload()
    expect(widget.dialog).to_be_visible()          # still open after the reload
    expect(widget.user_bubbles).to_have_count(1)
    expect(widget.user_bubbles.first).to_have_text(ELDERLY_WORRY)
    expect(widget.card("kakehashi")).to_be_visible()
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")
    expect(widget.quick.first).to_be_visible()    # the answer's buttons (ある / ない) come back too
    assert widget.storage()["sender"] == before["sender"]
    assert len(page.watch.chat_requests) == requests_before  # nothing re-sent

    # The conversation goes on with the same session id.
    widget.say("ありがとうございます")
    assert page.watch.chat_requests[-1]["sender"] == before["sender"]

    widget.restart.click()
    widget.wait_idle()
    expect(widget.user_bubbles).to_have_count(0)
    expect(widget.card("kakehashi")).to_have_count(0)
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")
    after = widget.storage()
    assert after["sender"] != before["sender"]
    assert page.watch.chat_requests[-1] == {"sender": after["sender"], "message": "/greet"}
    expect(widget.input).to_be_focused()
    page.reload()
    expect(widget.user_bubbles).to_have_count(0)


# --- keyboard only -------------------------------------------------------------------------------

def press_until_focused(page, key, target, limit=40):
    for _ in range(limit):
        if target.count() and target.evaluate("el => el.getRootNode().activeElement === el"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} x{limit} never reached {target}")


def test_whole_flow_by_keyboard_only(widget, page, directory):
    kakehashi = directory.agency("kakehashi")
    press_until_focused(page, "Tab", widget.launcher)
    assert widget.launcher.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"  # visible focus
    page.keyboard.press("Enter")
    expect(widget.dialog).to_be_visible()
    expect(widget.input).to_be_focused()
    widget.wait_idle()
    expect(widget.quick.first).to_be_visible()

    page.keyboard.type(ELDERLY_WORRY)
    page.keyboard.press("Enter")
    widget.wait_idle()
    card = widget.card("kakehashi")
    expect(card).to_be_visible()

    # The answer's buttons (ある / ない) are reachable with Shift+Tab and work with Enter.
    expect(widget.quick.last).to_be_visible()
    choice = widget.quick.last
    title = choice.inner_text()
    press_until_focused(page, "Shift+Tab", choice)
    assert choice.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(widget.user_bubbles.last).to_have_text(title)
    expect(widget.input).to_be_focused()
    widget.wait_idle()

    # The card's phone link is reachable too.
    tel = card.locator("a[href^='tel:']")
    press_until_focused(page, "Shift+Tab", tel)
    assert tel.get_attribute("href") == kakehashi.tel

    # Escape closes the panel and gives the focus back to the launcher.
    page.keyboard.press("Escape")
    expect(widget.dialog).to_be_hidden()
    expect(widget.launcher).to_be_focused()
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.dialog).to_be_visible()
    expect(card).to_be_visible()

    # The emergency control is reachable from the text box.
    press_until_focused(page, "Shift+Tab", widget.emergency)
    page.keyboard.press("Enter")
    widget.wait_idle()
    expect(page.locator(".sw-hotlines")).to_be_visible()
    no_page_errors(page)


def test_greeting_menu_button_sends_its_payload(widget, page):
    widget.open()
    button = widget.quick.first
    title, payload = button.inner_text(), button.get_attribute("data-payload")
    assert payload.startswith("/")
    button.click()
    widget.wait_idle()
    expect(widget.user_bubbles.last).to_have_text(title)   # the title is shown ...
    assert page.watch.sent_messages()[-1] == payload          # ... the payload is sent
    assert widget.bot_bubbles.count() >= 2


# --- emergency and crisis ------------------------------------------------------------------------

def test_emergency_control_shows_every_hotline(widget, page, directory):
    widget.open()
    expect(widget.emergency).to_be_visible()
    widget.emergency.click()
    widget.wait_idle()
    assert page.watch.sent_messages()[-1] == "/emergency_info"
    expect(widget.user_bubbles.last).to_have_text("緊急のとき")
    box = page.locator(".sw-hotlines").last
    expect(box).to_be_visible()
    hrefs = set(box.locator("a[href^='tel:']").evaluate_all("els => els.map(a => a.getAttribute('href'))"))
    expected = {h.tel for h in directory.hotlines.values()}
    assert expected <= hrefs, expected - hrefs
    for hotline in directory.hotlines.values():
        expect(box).to_contain_text(hotline.name)
    # Permanent: still there in the middle of a conversation.
    widget.say(ELDERLY_WORRY)
    expect(widget.emergency).to_be_visible()


def test_crisis_answer_is_an_alert_with_call_links(widget, page, directory):
    widget.open()
    widget.say(CRISIS_WORRY)
    crisis = page.locator(".sw-crisis")
    expect(crisis.first).to_be_visible()
    expect(crisis.first).to_have_attribute("role", "alert")
    hrefs = set(crisis.first.locator("a[href^='tel:']").evaluate_all(
        "els => els.map(a => a.getAttribute('href'))"))
    expected = {entry.tel for entry in directory.crisis_lines("suicide")}
    assert expected <= hrefs, expected - hrefs
    # Visibly different from an ordinary answer.
    colours = crisis.first.evaluate("el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderTopColor]")
    ordinary = widget.bot_bubbles.first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colours[0] != ordinary and colours[1] != "rgba(0, 0, 0, 0)"


# --- failures ------------------------------------------------------------------------------------

def test_network_failure_shows_retry_and_the_centres_phone(widget, page, directory):
    """The widget fetched the server's texts and number when it opened (GET on the endpoint);
    then the resident's connection goes: the error says so and gives the number from the data."""
    sogo = directory.agency("sogo")
    page.route("**/api/chat", lambda route: route.continue_() if route.request.method == "GET"
               else route.abort("internetdisconnected"))
    widget.open(wait_greeting=False)
    error = widget.errors.last
    expect(error).to_be_visible()
    expect(error).to_contain_text(offline_text(directory).splitlines()[0])
    expect(widget.input).to_have_attribute("maxlength", str(Settings().max_message_chars))
    call = error.locator(f"a.sw-call[href='{sogo.tel}']")
    expect(call).to_be_visible()
    expect(call).to_contain_text(sogo.phone)
    retry = error.get_by_role("button", name="もう一度送る")
    expect(retry).to_be_visible()

    # Back online: the retry gets the greeting, the error goes away.
    page.unroute("**/api/chat")
    retry.click()
    widget.wait_idle()
    expect(widget.errors).to_have_count(0)
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")

    # Server trouble (503): the message and the number come from the server's answer.
    body = {"error": {"code": "unavailable", "message": service_unavailable_text(directory)},
            "phone": sogo.phone, "tel": sogo.tel}
    page.route("**/api/chat", lambda route: route.fulfill(status=503, json=body))
    widget.say(ELDERLY_WORRY)
    error = widget.errors.last
    expect(error).to_contain_text("うまく動いていません")
    expect(error.locator(f"a.sw-call[href='{sogo.tel}']")).to_be_visible()
    page.unroute("**/api/chat")
    error.get_by_role("button", name="もう一度送る").click()
    widget.wait_idle()
    expect(widget.card("kakehashi")).to_be_visible()
    expect(widget.user_bubbles).to_have_count(1)  # the retry did not duplicate the bubble
    expect(widget.errors).to_have_count(0)


def test_a_server_never_reached_leaves_the_widget_its_last_resort_line(widget, page):
    """Not even the texts could be fetched: one plain line and a retry, no number the widget
    would have had to keep itself."""
    page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    widget.open(wait_greeting=False)
    error = widget.errors.last
    expect(error).to_contain_text("いまつながりません")
    expect(error.locator("a.sw-call")).to_have_count(0)
    page.unroute("**/api/chat")
    error.get_by_role("button", name="もう一度送る").click()
    widget.wait_idle()
    expect(widget.errors).to_have_count(0)
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")


def test_typing_indicator_while_waiting(widget, page):
    widget.open()
    held = []
    page.route("**/api/chat", lambda route: held.append(route))
    widget.input.fill(ELDERLY_WORRY)
    widget.input.press("Enter")
    typing = page.locator(".sw-typing")
    expect(typing).to_be_visible()
    expect(widget.log).to_have_attribute("aria-busy", "true")
    expect(widget.send_button).to_be_enabled()  # a message sent now is queued, not refused
    for _ in range(100):  # the route handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "request was not intercepted"
    held[0].continue_()
    widget.wait_idle()
    expect(typing).to_be_hidden()
    expect(widget.send_button).to_be_enabled()
    expect(widget.card("kakehashi")).to_be_visible()
    page.unroute("**/api/chat")


def test_works_on_a_cms_page_with_hostile_css(page, web_url):
    """Any CMS: tiny rem, global button/div rules and a script tag in <head> without defer."""
    html = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>CMS</title>
<style>html {{ font-size: 62.5%; }} * {{ font-family: serif !important; color: #0f0 !important; }}
button {{ display: none !important; }} div {{ position: static !important; background: yellow !important; }}</style>
<script src="{web_url}/widget/soudan-widget.js" data-endpoint="/api/chat" data-title="相談チャット"></script>
</head><body><p>市のページ</p></body></html>"""
    page.route(f"{web_url}/cms-page.html", lambda route: route.fulfill(status=200, body=html,
                                                                       content_type="text/html; charset=utf-8"))
    page.goto(f"{web_url}/cms-page.html")
    widget = Widget(page)
    expect(widget.launcher).to_be_visible()
    style = widget.launcher.evaluate("el => [getComputedStyle(el).position, getComputedStyle(el).fontSize, "
                                     "getComputedStyle(el).backgroundColor]")
    assert style[0] == "fixed" and float(style[1].rstrip("px")) >= 16 and style[2] == "rgb(0, 90, 156)", style
    widget.open()
    expect(widget.dialog).to_have_accessible_name("相談チャット")
    widget.say(ELDERLY_WORRY)
    expect(widget.card("kakehashi")).to_be_visible()
    no_page_errors(page)


# --- size, layout, screenshots -------------------------------------------------------------------

def test_text_size_control_and_it_is_remembered(widget, page):
    widget.open()
    text = widget.bot_bubbles.first.locator(".sw-text")
    base = text.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    group = page.get_by_role("group", name="文字の大きさ")
    group.get_by_role("button", name="特大").click()
    expect(group.get_by_role("button", name="特大")).to_have_attribute("aria-pressed", "true")
    expect(group.get_by_role("button", name="標準")).to_have_attribute("aria-pressed", "false")
    bigger = text.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert base >= 16 and bigger >= base * 1.4
    page.reload()
    expect(group.get_by_role("button", name="特大")).to_have_attribute("aria-pressed", "true")
    group.get_by_role("button", name="標準").click()  # the context is shared: leave it as found


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_layout_and_screenshots(request, viewport, web_url, reports_dir, directory):
    page = request.getfixturevalue("phone_page" if viewport == "phone" else "page")
    width = page.viewport_size["width"]
    widget = Widget(page).goto(web_url)
    page.screenshot(path=str(reports_dir / f"widget-{width}-closed.png"))
    widget.open()
    widget.say(ELDERLY_WORRY)
    expect(widget.card("kakehashi")).to_be_visible()
    box = widget.dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    if width <= 480:
        assert box["width"] >= width - 1  # full screen on a phone
    overflow = widget.log.evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 1, f"horizontal scroll in the log: {overflow}px"
    for target in (widget.send_button, widget.emergency, widget.restart, widget.quick.first):
        size = target.bounding_box()
        assert size["height"] >= 44 and size["width"] >= 44, (target, size)
    page.screenshot(path=str(reports_dir / f"widget-{width}.png"))
    widget.emergency.click()
    widget.wait_idle()
    page.screenshot(path=str(reports_dir / f"widget-{width}-emergency.png"))
    no_page_errors(page)


# --- accessibility (axe-core) --------------------------------------------------------------------

def run_axe(page, name, reports_dir):
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations'],
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))}));
    }""")
    (reports_dir / f"axe-{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=2)
    return result


def test_accessibility_scan(axe_context, web_url, reports_dir):
    page = axe_context.new_page()
    try:
        widget = Widget(page).goto(web_url)
        run_axe(page, "closed", reports_dir)
        widget.open()
        run_axe(page, "open", reports_dir)
        widget.say(ELDERLY_WORRY)
        expect(widget.card("kakehashi")).to_be_visible()
        widget.emergency.click()
        widget.wait_idle()
        widget.say(CRISIS_WORRY)
        expect(page.locator(".sw-crisis").first).to_be_visible()
        run_axe(page, "conversation", reports_dir)
        page.route("**/api/chat", lambda route: route.abort())
        widget.say("つながらないとき")
        expect(widget.errors.last).to_be_visible()
        page.unroute("**/api/chat")
        page.get_by_role("group", name="文字の大きさ").get_by_role("button", name="特大").click()
        run_axe(page, "error-large-text", reports_dir)
        page.get_by_role("group", name="文字の大きさ").get_by_role("button", name="標準").click()
    finally:
        page.close()
