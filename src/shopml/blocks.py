"""Block ids for block bootstraps: rows that move together (a burst of frauds within the hour) are
resampled together. Training's test metrics, the monitor and the promotion gate all use them.

>>> import numpy as np
>>> ids, k = block_index(np.array([7, 3, 7, 9]))
>>> ids.tolist(), k
([1, 0, 1, 2], 3)
>>> time_blocks(np.array(["2026-01-01T00:10", "2026-01-01T00:50", "2026-01-01T01:05"], "datetime64[us]"),
...             3600).tolist()
[490896, 490896, 490897]
"""

from __future__ import annotations

import numpy as np

__all__ = ["block_index", "time_blocks"]


def block_index(groups: np.ndarray, order: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Dense block number ``0..k-1`` of each row (rows taken in ``order`` when given) and ``k``."""
    g = np.asarray(groups)
    _, inverse = np.unique(g if order is None else g[order], return_inverse=True)
    ids = inverse.reshape(-1)
    return ids, int(ids.max()) + 1 if ids.size else 0


def time_blocks(times: np.ndarray, seconds: float) -> np.ndarray:
    """The ``seconds``-long block (counted from the epoch) each timestamp falls in."""
    us = np.asarray(times).astype("datetime64[us]").astype(np.int64)
    return us // int(seconds * 1_000_000)
