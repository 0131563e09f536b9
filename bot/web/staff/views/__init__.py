"""The staff pages, one module per concern, all on the one ``staff`` blueprint (``bp``, with its
guard, headers and helpers in ``common``): login, queue & search, case & workflow, statistics &
CSV, audit log, accounts, purge, and the LINE reply box of a case."""
from bot.web.staff.views import (accounts, audit_log, case, login, purge, queue,  # noqa: F401 (register routes)
                                 reports)
from bot.web.staff.views.common import bp
from bot.web.staff import line_reply  # noqa: F401 (registers the LINE reply route on bp)

__all__ = ["bp"]
