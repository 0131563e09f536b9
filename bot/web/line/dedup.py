"""A bounded set whose entries expire: used to answer redelivered webhook events only once and
to send the group notice at most once in a while. One web process, so memory is enough."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable


class TtlSet:
    def __init__(self, ttl_seconds: float, max_items: int, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl_seconds
        self.max_items = max_items
        self.clock = clock
        self._items: "OrderedDict[str, float]" = OrderedDict()  # key -> expiry, oldest first
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._items:
            key, expiry = next(iter(self._items.items()))
            if expiry > now and len(self._items) <= self.max_items:
                break
            self._items.popitem(last=False)

    def add_if_new(self, key: str) -> bool:
        """Record ``key``; True if it was not already there (and not expired)."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            if key in self._items:
                return False
            self._items[key] = now + self.ttl
            self._expire(now)
            return True

    def discard(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __contains__(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            self._expire(now)
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._items)
