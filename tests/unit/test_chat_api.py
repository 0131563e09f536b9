"""/api/chat input checks and behaviour when Rasa is down (Flask test client, real HTTP to a
closed port for the down case)."""
import pytest

from bot.core.directory import get_directory
from bot.tools.runner import free_port
from bot.web import create_app
from bot.web.config import Settings
from tests.rasa_fake import FakeRasa


@pytest.fixture
def client():
    port = free_port()  # nothing listens there: Rasa is "down"
    app = create_app(Settings(rasa_urls=(f"http://127.0.0.1:{port}",), action_server_urls=(f"http://127.0.0.1:{port}",),
                              rasa_timeout_seconds=1, rate_limit_per_session=5, rate_limit_per_ip=1000))
    return app.test_client()


SENDER = "abcdefgh12345678"


@pytest.mark.parametrize("body,code", [
    ({"sender": SENDER}, "bad_message"),
    ({"message": "hello"}, "bad_sender"),
    ({"sender": 12, "message": "hello"}, "bad_sender"),
    ({"sender": "short", "message": "hello"}, "bad_sender"),
    ({"sender": SENDER, "message": 5}, "bad_message"),
    ({"sender": SENDER, "message": "   "}, "empty_message"),
    ({"sender": SENDER, "message": "あ" * 2001}, "too_long"),
    ({"sender": SENDER, "message": "abc\x00def"}, "control_characters"),
    ({"sender": SENDER, "message": "abc\x1bdef"}, "control_characters"),
    ({"sender": SENDER, "message": "\u200b\ufeff\u2060 \u202e"}, "empty_message"),  # invisible only
    (["not", "an", "object"], "bad_json"),
])
def test_bad_input_gets_400_with_a_japanese_message(client, body, code):
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_lone_surrogate_is_refused(client):
    body = '{"sender": "%s", "message": "abc\\ud800def"}' % SENDER  # valid JSON, invalid text
    response = client.post("/api/chat", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "control_characters"


def test_not_json(client):
    response = client.post("/api/chat", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_json"


def test_body_too_large(client):
    response = client.post("/api/chat", data="x" * 100_000, content_type="application/json")
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_rasa_down_gives_503_with_the_centres_phone(client):
    response = client.post("/api/chat", json={"sender": SENDER, "message": "母の物忘れが心配です"})
    assert response.status_code == 503
    body = response.get_json()
    sogo = get_directory().agency("sogo")
    assert sogo.phone in body["error"]["message"] and body["tel"] == sogo.tel


def test_rasa_down_and_crisis_text_still_gives_crisis_lines(client):
    response = client.post("/api/chat", json={"sender": SENDER, "message": "もう死にたい"})
    assert response.status_code == 503
    assert get_directory().hotlines["yorisoi"].number in response.get_json()["error"]["message"]


def test_rate_limit_per_session(client):
    codes = [client.post("/api/chat", json={"sender": SENDER, "message": "こんにちは"}).status_code for _ in range(7)]
    assert codes[-1] == 429 and codes.count(429) == 2


def test_the_widget_gets_its_failure_texts_and_the_number_from_the_data(client):
    response = client.get("/api/chat")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    sogo = get_directory().agency("sogo")
    assert body["call"] == {"name": sogo.name, "phone": sogo.phone, "tel": sogo.tel}
    assert set(body["texts"]) == {"offline", "unavailable", "busy"}
    assert all(sogo.phone in text for text in body["texts"].values())
    # The same words the API itself answers with when Rasa is down or a sender sends too much.
    down = client.post("/api/chat", json={"sender": SENDER, "message": "母の物忘れが心配です"}).get_json()
    assert down["error"]["message"] == body["texts"]["unavailable"]
    assert body["max_chars"] == 2000  # the limit the API enforces (too_long above)


def test_healthz_reports_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"rasa": "down", "action_server": "down", "status": "degraded"}


def test_unknown_route_has_no_stack_trace(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert b"Traceback" not in response.data


def test_demo_page_lists_the_directory(client):
    html = client.get("/").get_data(as_text=True)
    for agency in get_directory().agencies.values():
        assert agency.phone in html
    assert "soudan-widget.js" in html


@pytest.fixture
def answering(client):
    rasa = FakeRasa()
    client.application.config["RASA"] = rasa
    return client, rasa


@pytest.mark.parametrize("message", [
    "すみません🙇\u200d♀️ 母のことで相談です",
    "またやってしまった🤦\u200d♀️",
    "👨\u200d👩\u200d👧 家族のことです",
    "ありがとう❤️ 1️⃣つ目の相談",
])
def test_emoji_sequences_are_answered_and_forwarded_whole(answering, message):
    client, rasa = answering
    response = client.post("/api/chat", json={"sender": SENDER, "message": message})
    assert response.status_code == 200, response.get_json()
    assert rasa.calls == [("web-" + SENDER, message)]


def test_invisible_characters_from_copied_text_are_removed_before_rasa(answering):
    client, rasa = answering
    response = client.post("/api/chat", json={"sender": SENDER,
                                              "message": "\ufeff\u202a母の\u200b物忘れ\u2069が\u00ad心配\u200e"})
    assert response.status_code == 200
    assert rasa.calls == [("web-" + SENDER, "母の物忘れが心配")]


def test_invisible_characters_do_not_count_towards_the_length_limit(answering):
    client, rasa = answering
    response = client.post("/api/chat", json={"sender": SENDER, "message": "あ\u200b" * 1500})
    assert response.status_code == 200 and rasa.calls[0][1] == "あ" * 1500


def test_rasa_down_and_zero_width_space_in_crisis_text_still_gives_crisis_lines(client):
    response = client.post("/api/chat", json={"sender": SENDER, "message": "もう死\u200bにたい"})
    assert response.status_code == 503
    assert get_directory().hotlines["yorisoi"].number in response.get_json()["error"]["message"]
