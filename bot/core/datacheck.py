"""Start-up check: load every data file a service reads, each checked against the vocabulary
(bot/core/fields.py), so a file that names an unknown field, agency, kind of danger, urgency level or
intent stops the start with a clear message instead of failing on a resident's message.

Called by the action server (actions/__init__.py) and the web side (bot/web/serve.py); Rasa
checks the lexicons when it loads its components.
"""
from __future__ import annotations


def check_data() -> None:
    """Raises DirectoryError / VocabularyError / DomainTextError (all ValueError) naming the file."""
    from bot.core.directory import get_directory, languages
    from bot.core.domain_texts import category_buttons
    from bot.core import easy
    from bot.core.faq import faq
    from bot.core.intake import form
    from bot.core.lexicon import all_lexicons, topic_lexicon

    get_directory()                  # agencies (fields, weekdays), hotlines, kinds of danger
    languages()
    faq()
    form()                           # bot/intake.yml
    easy._data()                     # easy_japanese.yml
    all_lexicons()                   # crisis.yml kinds, fields.yml fields and urgency levels
    topic_lexicon()                  # topics name hotline kinds
    category_buttons()               # domain.yml utter_greet: payloads are intents
