"""The score cache: LRU order, TTL expiry."""

from __future__ import annotations

import time

import numpy as np

from shopml.serve import ScoreCache


def test_lru_evicts_least_recently_used() -> None:
    c = ScoreCache(size=2, ttl_s=60)
    c.put("a", np.array([1.0]))
    c.put("b", np.array([2.0]))
    assert c.get("a") is not None  # a is now most recent
    c.put("c", np.array([3.0]))
    assert c.get("b") is None and c.get("a") is not None and len(c) == 2


def test_entries_expire_after_ttl() -> None:
    c = ScoreCache(size=10, ttl_s=0.02)
    c.put(("v1", (1.0,)), np.array([0.3]))
    assert c.get(("v1", (1.0,))) is not None
    time.sleep(0.03)
    assert c.get(("v1", (1.0,))) is None and len(c) == 0
