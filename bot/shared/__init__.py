"""Modules that both the action server (.venv-rasa) and the web side (.venv-web) import and that need
more than bot/core allows (``requests``, present in both environments)."""
