"""In Chromium (JavaScript off, as the staff pages must work without it): the search box on the
queue page finds a case by a full-width phone number and opens a 受付票 by its 受付番号.
Only the web side is served (in this process, on a real SQLite file): no Rasa needed."""
from __future__ import annotations

import re
import threading

import pytest
from werkzeug.serving import make_server

from tests.chromium import staff_page
from tests.staff.conftest import STAFF
from tests.staff.test_search_queue import handoff_with_phone

pytestmark = [pytest.mark.browser]



@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_search_box_finds_by_phone_and_opens_by_reference(served, db, accounts):
    from playwright.sync_api import expect

    first = handoff_with_phone(db, "090-5555-6666")
    second = handoff_with_phone(db, "09055556666", fields=["child"])
    other = handoff_with_phone(db, "090-5555-6667")
    with staff_page(served, *STAFF) as page:
        page.get_by_label("受付番号または電話番号").fill("０９０－５５５５－６６６６")
        page.get_by_role("button", name="さがす").click()
        expect(page.get_by_role("heading", name="受付番号・電話番号でさがす")).to_be_visible()
        expect(page.get_by_role("status").last).to_contain_text("2件")
        results = page.locator("table.list tbody")
        expect(results).to_contain_text(first)
        expect(results).to_contain_text(second)
        expect(results).not_to_contain_text(other)
        assert "5555" not in page.url  # the number never goes into the address

        page.get_by_label("受付番号または電話番号").fill(other.replace("-", ""))
        page.get_by_role("button", name="さがす").click()
        expect(page).to_have_url(re.compile(rf"/staff/h/{other}$"))
        expect(page.get_by_role("heading", name=f"相談受付票　受付番号 {other}")).to_be_visible()
