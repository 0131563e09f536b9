"""Internal notes from the action server never reach a resident (bot.web.rasa_client.split_notes)."""
from bot.web.rasa_client import split_notes, to_widget_messages


def test_notes_are_taken_out_of_the_answer():
    answer = [{"recipient_id": "web-x", "text": "ご相談ありがとうございます。"},
              {"recipient_id": "web-x", "custom": {"internal": {"outcome": "agency", "agency": "kodomo"}}},
              {"recipient_id": "web-x", "custom": {"type": "hotlines", "text": "119"}}]
    shown, notes = split_notes(answer)
    assert notes == [{"outcome": "agency", "agency": "kodomo"}]
    widget = to_widget_messages(shown)
    assert [m.get("text") for m in widget] == ["ご相談ありがとうございます。", "119"]
    assert all("internal" not in (m.get("custom") or {}) for m in widget)


def test_a_malformed_note_is_dropped_not_shown():
    shown, notes = split_notes([{"custom": {"internal": "not a dict"}}, {"text": "はい"}])
    assert notes == [] and shown == [{"text": "はい"}]
