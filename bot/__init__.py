"""Hokuto City consultation referral assistant.

The sub-folder tells which Python environment runs a module:

- ``bot/core/``: logic shared by both sides; standard library, PyYAML, sqlite-utils and small pure
  packages pinned in both requirement files (holidays) only, so Rasa (3.10) and Flask (3.11) can use it.
- ``bot/nlu/``: the Rasa side (custom NLU components, text models, speed-ups); ``.venv-rasa`` only.
- ``bot/web/``: the Flask side (widget API, LINE webhook, staff pages); ``.venv-web`` only.
- ``bot/shared/``: modules the action server and the web side both import that need more than the
  core allows (``requests``).
- ``bot/tools/``: command-line tools and the process supervisor (evaluate, crossval, runner, scale,
  tracker_retention).

tests/unit/test_layout.py checks the core's imports and that the web side never imports bot.nlu.
"""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
