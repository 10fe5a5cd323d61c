"""A bounded LRU + TTL cache of scores, one per served model version (so a new version starts empty).

The key is the canonical form of the validated inputs (:meth:`Encoded.cache_key`), identical for a
``/v1`` row and the same values sent as OIP tensors.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np

__all__ = ["ScoreCache"]


class ScoreCache:
    """At most ``size`` entries, each valid for ``ttl_s`` seconds; least recently used evicted first.

    >>> c = ScoreCache(size=1, ttl_s=60)
    >>> c.put("a", np.array([0.5])); c.get("a")
    array([0.5])
    >>> c.put("b", np.array([0.1])); c.get("a") is None
    True
    """

    def __init__(self, size: int, ttl_s: float) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self._data: OrderedDict[Hashable, tuple[float, np.ndarray]] = OrderedDict()

    def get(self, key: Hashable) -> np.ndarray | None:
        """The cached scores, or None when absent or expired."""
        hit = self._data.get(key)
        if hit is None:
            return None
        expires, scores = hit
        if expires < time.monotonic():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return scores

    def put(self, key: Hashable, scores: np.ndarray) -> None:
        """Store scores; evict the least recently used entry beyond ``size``."""
        self._data[key] = (time.monotonic() + self.ttl_s, scores)
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
