"""The widget as a hurried or worried resident uses it, in Debian's Chromium against the real stack:
messages written while an answer is awaited are queued (never dropped), typed text survives a
failure, every phone number is a tel: link, 最初から asks first once a 受付番号 was given, and the
demo page's first tab stop opens the chat.

Expected phone numbers come from the directory data, never written here.
"""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_widget import ELDERLY_WORRY
from tests.browser.widget import no_page_errors

pytestmark = [pytest.mark.stack, pytest.mark.browser]

SECOND = "ありがとうございます"
REF = re.compile(r"受付番号は「(\d{3}-\d{4})」")
# Anything that looks like a phone number: 0138-74-2500, 0570-078374, #8000, 110 (not in a longer number).
PHONE_LIKE = re.compile(r"#\d{3,4}|\d{2,5}-\d{1,6}(?:-\d{3,5})?|(?<![\d-])1\d\d(?![\d-])")


def hold_first_request(page):
    """Hold the next message to /api/chat (the test releases it); later ones, and the widget's
    GET for its texts, go through."""
    held = []

    def handler(route):
        if not held and route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/chat", handler)
    return held


def wait_held(page, held):
    for _ in range(200):  # the route handler runs while Playwright waits
        if held:
            return held[0]
        page.wait_for_timeout(50)
    raise AssertionError("request was not intercepted")


def log_sequence(page):
    """The conversation as ('user', text) / ('bot', text) pairs, in screen order."""
    return page.locator(".sw-log").evaluate("""log => Array.from(log.children)
        .filter(el => el.matches('.sw-msg') && !el.matches('.sw-typing'))
        .map(el => [el.matches('.sw-msg--user') ? 'user' : 'bot',
                    (el.querySelector('.sw-text') || el).textContent])""")


def unlinked_text(locator):
    """The element's text without its tel: links."""
    return locator.evaluate("""el => { const copy = el.cloneNode(true);
        copy.querySelectorAll("a[href^='tel:']").forEach(a => a.remove());
        return copy.textContent; }""")


def link_texts(locator):
    return locator.locator("a[href^='tel:']").evaluate_all(
        "els => els.map(a => [a.textContent.trim(), a.getAttribute('href')])")


# --- messages written while an answer is awaited ---------------------------------------------------

def test_enter_at_once_after_opening_is_queued_and_answered(widget, page):
    held = hold_first_request(page)
    widget.open(wait_greeting=False)
    greeting = wait_held(page, held)            # the greeting is still on its way ...
    widget.input.fill(ELDERLY_WORRY)
    widget.input.press("Enter")                  # ... and the resident sends at once
    bubble = page.locator(".sw-msg--user").last
    expect(bubble.locator(".sw-text")).to_have_text(ELDERLY_WORRY)
    expect(bubble).to_contain_text("送信中…")
    assert widget.input.input_value() == ""
    assert page.watch.sent_messages() == ["/greet"]  # waits for the greeting's answer
    expect(widget.log).to_have_attribute("aria-busy", "true")

    greeting.continue_()
    widget.wait_idle()
    expect(widget.card("kakehashi")).to_be_visible()
    assert page.watch.sent_messages() == ["/greet", ELDERLY_WORRY]
    expect(page.locator(".sw-status")).to_have_count(0)
    sequence = log_sequence(page)
    assert sequence[0][0] == "bot" and "こんにちは" in sequence[0][1], sequence  # greeting first
    assert sequence[1] == ["user", ELDERLY_WORRY], sequence
    assert len(sequence) >= 3 and all(who == "bot" for who, _ in sequence[2:]), sequence
    stored = widget.storage()["messages"]
    assert [m["text"] for m in stored if m["who"] == "user"] == [ELDERLY_WORRY]
    page.unroute("**/api/chat")
    no_page_errors(page)


def test_two_quick_messages_are_both_answered_in_order(widget, page):
    widget.open()
    before = len(page.watch.chat_requests)
    held = hold_first_request(page)
    widget.input.fill(ELDERLY_WORRY)
    widget.input.press("Enter")
    widget.input.fill(SECOND)
    widget.input.press("Enter")
    expect(widget.user_bubbles).to_have_count(2)
    expect(page.locator(".sw-msg--user .sw-status")).to_have_count(2)
    first = wait_held(page, held)
    page.wait_for_timeout(300)
    assert page.watch.sent_messages()[before:] == [ELDERLY_WORRY]  # one at a time

    first.continue_()
    widget.wait_idle()
    assert page.watch.sent_messages()[before:] == [ELDERLY_WORRY, SECOND]
    expect(page.locator(".sw-status")).to_have_count(0)
    sequence = log_sequence(page)
    users = [i for i, (who, _) in enumerate(sequence) if who == "user"]
    assert [sequence[i][1] for i in users] == [ELDERLY_WORRY, SECOND], sequence
    # Each message has its own answer right after it.
    assert users[1] - users[0] >= 2 and len(sequence) - users[1] >= 2, sequence
    card_after_first = page.locator(".sw-log > .sw-msg").nth(users[0] + 1)
    expect(card_after_first.locator(".sw-card[data-agency='kakehashi']")).to_have_count(1)
    assert [m["text"] for m in widget.storage()["messages"] if m["who"] == "user"] == [ELDERLY_WORRY, SECOND]
    page.unroute("**/api/chat")
    no_page_errors(page)


def test_failed_send_puts_the_typed_text_back(widget, page):
    widget.open()
    held = hold_first_request(page)
    widget.input.fill(ELDERLY_WORRY)
    widget.input.press("Enter")
    widget.input.fill(SECOND)
    widget.input.press("Enter")                   # queued behind the first
    wait_held(page, held).abort("internetdisconnected")
    error = widget.errors.last
    expect(error).to_be_visible()
    expect(error).to_contain_text("入力欄に戻して")
    widget.wait_idle()
    assert widget.input.input_value() == ELDERLY_WORRY + "\n" + SECOND  # nothing lost, in order
    expect(widget.user_bubbles).to_have_count(0)
    assert widget.storage()["messages"][-1]["who"] == "bot"

    page.unroute("**/api/chat")
    error.get_by_role("button", name="もう一度送る").click()
    widget.wait_idle()
    expect(widget.errors).to_have_count(0)
    expect(widget.user_bubbles).to_have_count(1)
    expect(widget.user_bubbles.first).to_have_text(ELDERLY_WORRY + "\n" + SECOND)
    assert widget.input.input_value() == ""
    assert page.watch.sent_messages()[-1] == ELDERLY_WORRY + "\n" + SECOND

    # Refused by the server (400): the server's reason, and the text back in the box to fix.
    refused = {"error": {"code": "too_long", "message": "メッセージが長すぎます。"}}
    page.route("**/api/chat", lambda route: route.fulfill(status=400, json=refused))
    widget.say("長い文")
    error = widget.errors.last
    expect(error).to_contain_text("メッセージが長すぎます。")
    expect(error).to_contain_text("直してから")
    expect(error.get_by_role("button", name="もう一度送る")).to_have_count(0)
    assert widget.input.input_value() == "長い文"
    expect(widget.user_bubbles).to_have_count(1)
    page.unroute("**/api/chat")
    widget.input.press("Enter")                    # the kept text, sent again: that message goes
    widget.wait_idle()
    expect(widget.errors).to_have_count(0)
    expect(widget.user_bubbles.last).to_have_text("長い文")


# --- phone numbers ---------------------------------------------------------------------------------

def assert_every_number_linked(box):
    rest = unlinked_text(box)
    assert not PHONE_LIKE.findall(rest), (PHONE_LIKE.findall(rest), rest)


def test_every_number_in_the_crisis_answer_is_a_tel_link(widget, page, directory):
    widget.open()
    widget.say("死にたい")
    crisis = page.locator(".sw-crisis").first
    expect(crisis).to_be_visible()
    links = link_texts(crisis)
    for entry in directory.crisis_lines("suicide"):
        number = getattr(entry, "number", None) or entry.phone
        assert [number, entry.tel] in links, (number, links)
    ambulance = directory.hotlines["fire_ambulance"]
    heading = crisis.locator(".sw-lines__heading")
    expect(heading).to_contain_text(f"{ambulance.number}番")
    assert [ambulance.number, ambulance.tel] in link_texts(heading)   # the number in the heading too
    assert_every_number_linked(crisis)
    widget.emergency.click()
    widget.wait_idle()
    hotlines = page.locator(".sw-hotlines").last
    expect(hotlines).to_be_visible()
    numbers = {text for text, _ in link_texts(hotlines)}
    assert {h.number for h in directory.hotlines.values()} <= numbers
    assert_every_number_linked(hotlines)
    no_page_errors(page)


def test_numbers_in_after_hours_text_are_links_and_other_numbers_are_not(widget, page, directory):
    from bot.core.replies import always_open_text

    after_hours = always_open_text(directory)
    tricky = ("11月30日の受付番号は「119-3456」です。約110人、1190円、2026-11-30。"
              "電話：0120-0-78310、#8000、0570-078374、189、または110番へ。")
    widget.open()
    page.route("**/api/chat", lambda route: route.fulfill(
        status=200, json=[{"text": after_hours}, {"text": tricky}]))
    widget.say("夜に相談したい")
    page.unroute("**/api/chat")
    answer = widget.bot_bubbles.filter(has_text="24時間").last
    expect(answer).to_be_visible()
    expected = [line.number for line in directory.always_open_lines() if line.number in after_hours]
    assert expected and all(n in [t for t, _ in link_texts(answer)] for n in expected), link_texts(answer)
    assert_every_number_linked(answer)

    other = widget.bot_bubbles.filter(has_text="約110人").last
    assert link_texts(other) == [["0120-0-78310", "tel:0120078310"], ["#8000", "tel:%238000"],
                                 ["0570-078374", "tel:0570078374"], ["189", "tel:189"], ["110", "tel:110"]]
    expect(other).to_contain_text("受付番号は「119-3456」")


# --- start over ------------------------------------------------------------------------------------

def inform(answer: str) -> str:
    return "/inform" + json.dumps({"form_answer": answer}, ensure_ascii=False)


def test_start_over_asks_first_when_a_reference_number_was_given(widget, page):
    widget.open()
    widget.say("ひきこもりの兄と認知症の父のことで困っています")
    widget.say("はい")
    for answer in ("本人", "40〜50代", "家族と同居", "急がない", "匿名"):
        widget.say(inform(answer))
    expect(widget.bot_bubbles.last).to_contain_text("この内容で送ってよいですか")
    widget.say("はい")
    found = REF.search(widget.log.inner_text())
    assert found, widget.log.inner_text()
    ref = found.group(1)
    sender = widget.storage()["sender"]
    bubbles = widget.user_bubbles.count()
    requests = len(page.watch.chat_requests)

    widget.restart.click()
    confirm = page.locator(".sw-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"受付番号 {ref} は控えましたか？")
    expect(confirm).to_contain_text("この画面の会話は消えます")
    no = confirm.get_by_role("button", name=re.compile("^いいえ"))
    expect(no).to_be_focused()                    # the safe answer has the focus
    no.click()
    expect(confirm).to_have_count(0)
    expect(widget.user_bubbles).to_have_count(bubbles)
    assert widget.storage()["sender"] == sender
    assert len(page.watch.chat_requests) == requests
    expect(widget.input).to_be_focused()

    widget.restart.click()
    page.locator(".sw-confirm").get_by_role("button", name=re.compile("^はい")).click()
    widget.wait_idle()
    expect(widget.user_bubbles).to_have_count(0)
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")
    assert widget.storage()["sender"] != sender
    assert page.watch.sent_messages()[-1] == "/greet"

    # The new conversation has no 受付番号: 最初から starts over at once.
    widget.say(ELDERLY_WORRY)
    widget.restart.click()
    widget.wait_idle()
    expect(page.locator(".sw-confirm")).to_have_count(0)
    expect(widget.user_bubbles).to_have_count(0)
    no_page_errors(page)


# --- the demo page ---------------------------------------------------------------------------------

def test_skip_link_is_the_first_tab_stop_and_opens_the_chat(widget, page):
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.tagName, document.activeElement.textContent]")
    assert focused == ["A", "相談窓口の案内を開く"], focused
    skip = page.get_by_role("link", name="相談窓口の案内を開く")
    box = skip.bounding_box()
    assert box and box["y"] >= 0 and box["height"] > 0   # visible while focused
    page.keyboard.press("Enter")
    expect(widget.dialog).to_be_visible()
    expect(widget.input).to_be_focused()
    widget.wait_idle()
    expect(widget.bot_bubbles.first).to_contain_text("こんにちは")
    no_page_errors(page)
