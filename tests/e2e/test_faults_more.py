"""The handoff store cannot be written (disk full): the resident is told to call, no reference
number is shown, and no row appears. Then the store works again and the next handoff is saved.

Disk full is simulated with RLIMIT_FSIZE on the running action server (``resource.prlimit``):
every write past 4 KB fails with EFBIG, which SQLite reports as "database or disk is full"
(Python ignores SIGXFSZ, so the process lives on). This works when the tests run as root,
where chmod 0444 or a read-only directory would not stop the writes; a tmpfs or a read-only
mount would need privileges the test should not ask for.
"""
import resource
import time

import pytest
import requests

from bot.core.directory import get_directory
from bot.core.store import open_store
from tests.conftest import REF, Conversation, all_text, reach_confirmation, wait_healthy

pytestmark = pytest.mark.stack


def _group_pids(pgid: int):
    import os
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[2]) == pgid:
                        pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def _set_fsize(stack, soft):
    """Soft limit only: raising a hard limit again would need CAP_SYS_RESOURCE."""
    for pid in _group_pids(stack.services["actions"].process.pid):
        _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft if hard == resource.RLIM_INFINITY else min(soft, hard),
                                                      hard))


def _rows(db_path) -> int:
    db = open_store(db_path)
    try:
        return db.execute("SELECT count(*) FROM handoffs").fetchone()[0]
    finally:
        db.conn.close()


def test_disk_full_tells_the_resident_to_call_and_saves_nothing(stack, db_path):
    sogo = get_directory().agency("sogo")
    c = reach_confirmation(stack.web_url)
    before = _rows(db_path)
    _set_fsize(stack, 4096)
    try:
        text = all_text(c.say("はい"))
    finally:
        _set_fsize(stack, resource.RLIM_INFINITY)
    assert "受付番号はお出しできません" in text, text
    assert sogo.phone in text
    assert not REF.search(text) and "受け付けました" not in text
    assert _rows(db_path) == before
    # The store works again: the next resident gets a number that is in the file.
    wait_healthy(stack, timeout=60)
    c2 = reach_confirmation(stack.web_url)
    assert REF.search(all_text(c2.say("はい")))
    assert _rows(db_path) == before + 1
