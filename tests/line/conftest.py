"""The ``line`` fixture: LINE's side of the real stack (signed webhooks in, the fake API's replies out)."""
import pytest

from tests.line.helpers import Line


@pytest.fixture
def line(stack, line_api):
    line_api.clear()
    return Line(stack, line_api)
