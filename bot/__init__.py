"""Hokuto City consultation referral assistant: logic shared by the web side and the Rasa side.

Modules at this level import only the standard library and PyYAML, so both Python
environments (Rasa on 3.10, Flask on 3.11) can use them.
"""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
