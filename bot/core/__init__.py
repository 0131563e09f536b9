"""Logic shared by the Rasa side and the web side: standard library, PyYAML, sqlite-utils and pure
packages pinned in both requirement files only (tests/unit/test_layout.py checks it)."""
