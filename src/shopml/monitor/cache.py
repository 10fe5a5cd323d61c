"""In-process caches that make a repeated ``run_monitor`` (one call per simulated day) cheap.

Everything cached is either immutable once written (a registry client per store, a stored reference
profile keyed by its file's size and modification time, seeded bootstrap weights) or keyed by a digest
of every input it depends on (a window's performance), so a cached result is the result a fresh
computation would give. Each cache is bounded (least recently used entries are dropped).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from shopml.stats import resample_weights

__all__ = ["LRU", "bootstrap_weights", "cached_profile", "clear_caches", "digest", "reader_for"]

V = TypeVar("V")


class LRU(Generic[V]):
    """A small least-recently-used mapping with at most ``size`` entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, V] = OrderedDict()

    def get(self, key: Any) -> V | None:
        """The value under ``key`` (marked as recently used), or ``None``."""
        if key not in self._data:
            return None
        self._data.move_to_end(key)
        return self._data[key]

    def put(self, key: Any, value: V) -> V:
        """Store ``value`` under ``key``, dropping the oldest entry beyond ``size``; returns ``value``."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_READERS: LRU[Any] = LRU(8)
_PROFILES: LRU[Any] = LRU(16)
_WEIGHTS: LRU[np.ndarray] = LRU(2)
WINDOWS: LRU[Any] = LRU(4096)  # window performance by input digest (see shopml.monitor.job)


def reader_for(workspace: Any, tracking_uri: str | None) -> Any:
    """One registry reader (and so one MLflow client) per workspace and tracking store."""
    from shopml.registry.reader import RegistryReader

    key = (str(Path(workspace.root).resolve()), tracking_uri)
    found = _READERS.get(key)
    return found if found is not None else _READERS.put(key, RegistryReader(workspace, tracking_uri))


def cached_profile(path: Path) -> Any:
    """The reference profile stored at ``path``, loaded once per file version (size, mtime)."""
    from shopml.profile.reference import Profile

    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    found = _PROFILES.get(key)
    return found if found is not None else _PROFILES.put(key, Profile.load(path))


def bootstrap_weights(seed: int, n_resamples: int, rows: int) -> np.ndarray:
    """Poisson(1) bootstrap weights ``(n_resamples, rows)``, drawn once per seed and shape (read-only)."""
    key = (seed, n_resamples, rows)
    found = _WEIGHTS.get(key)
    if found is not None:
        return found
    rng = np.random.default_rng([seed, 0x5EED])
    (weights,) = resample_weights(
        n_resamples, rows, rng, method="poisson", chunk=n_resamples, dtype=np.float32
    )
    weights.setflags(write=False)
    return _WEIGHTS.put(key, weights)


def digest(*parts: Any) -> str:
    """A digest of arrays (their bytes, dtype and shape) and other values (their ``repr``)."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        if isinstance(part, np.ndarray):
            a = np.ascontiguousarray(part)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"\x00")
    return h.hexdigest()


def clear_caches() -> None:
    """Empty every monitoring cache of this process."""
    for c in (_READERS, _PROFILES, _WEIGHTS, WINDOWS):
        c.clear()
