"""The handoff store cannot be written (disk full): the resident is told to call, no reference
number is shown, and no row appears. Then the store works again and the next handoff is saved.

Disk full is simulated with RLIMIT_FSIZE on the running action server (``resource.prlimit``):
every write past 4 KB fails with EFBIG, which SQLite reports as "database or disk is full"
(Python ignores SIGXFSZ, so the process lives on). This works when the tests run as root,
where chmod 0444 or a read-only directory would not stop the writes; a tmpfs or a read-only
mount would need privileges the test should not ask for.
"""
import re
import resource
import time

import pytest
import requests

from bot.directory import get_directory
from bot.store import open_store
from tests.conftest import Conversation, all_text

pytestmark = pytest.mark.stack
REF = re.compile(r"受付番号は「(\d{3}-\d{4})」")


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


def _to_confirmation(web_url) -> Conversation:
    c = Conversation(web_url)
    c.say("ひきこもりの兄と認知症の父のことで困っています")
    c.say("はい")
    for answer in ("本人", "40〜50代", "家族と同居", "急がない", "匿名"):
        text = all_text(c.say('/inform{"form_answer": "%s"}' % answer))
    assert "この内容で送ってよいですか" in text
    return c


def _wait_healthy(stack, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(stack.web_url + "/healthz", timeout=5).status_code == 200:
            return
        time.sleep(0.5)
    raise AssertionError("stack not healthy")


def test_disk_full_tells_the_resident_to_call_and_saves_nothing(stack, db_path):
    sogo = get_directory().agency("sogo")
    c = _to_confirmation(stack.web_url)
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
    _wait_healthy(stack)
    c2 = _to_confirmation(stack.web_url)
    assert REF.search(all_text(c2.say("はい")))
    assert _rows(db_path) == before + 1
