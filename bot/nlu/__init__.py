"""The Rasa side: custom NLU components named in config.yml, the text models they train and Rasa
speed-ups. Runs in .venv-rasa only; the web side never imports it."""
