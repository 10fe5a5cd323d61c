"""Session-parallel mini-batches (Hidasi et al. 2016) and the popularity^alpha negative sampler.

``B`` lanes each read one session an event at a time: at every step lane ``j`` gives its current item
(input) and the next one (target). When a lane's session has no next event, the lane takes the next
session in the epoch's order and its hidden state is reset (``keep`` False). The epoch ends when a lane
cannot be refilled (the few events left in the other lanes are skipped, as in the paper).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from shopml.errors import ConfigError
from shopml.recs.data import Sessions

__all__ = ["NegativeSampler", "Step", "session_parallel"]


@dataclass(frozen=True)
class Step:
    """One step of every lane: ``x`` current items, ``y`` next items, ``keep`` False where a new session
    starts (reset the lane's state before this step)."""

    x: np.ndarray
    y: np.ndarray
    keep: np.ndarray


def session_parallel(s: Sessions, batch: int, rng: np.random.Generator) -> Iterator[Step]:
    """The epoch's steps over ``s`` in a random session order."""
    if batch < 1:
        raise ConfigError(f"batch must be >= 1, got {batch}")
    order = rng.permutation(s.n_sessions)
    if order.size < batch:
        raise ConfigError(f"batch {batch} is larger than the {order.size} training sessions")
    lane = order[:batch].copy()
    nxt = batch
    pos = s.offsets[lane].copy()  # row of each lane's current event
    end = s.offsets[lane + 1] - 1  # row of each lane's last event
    keep = np.zeros(batch, bool)
    while True:
        yield Step(s.item[pos], s.item[pos + 1], keep)
        pos += 1
        done = np.flatnonzero(pos >= end)
        keep = np.ones(batch, bool)
        if done.size:
            if nxt + done.size > order.size:
                return
            fresh = order[nxt : nxt + done.size]
            nxt += done.size
            pos[done], end[done] = s.offsets[fresh], s.offsets[fresh + 1] - 1
            keep[done] = False


class NegativeSampler:
    """Extra negatives drawn with probability proportional to support^alpha, in blocks of draws made
    ahead (one ``choice`` call per block)."""

    def __init__(self, counts: np.ndarray, alpha: float, size: int, rng: np.random.Generator) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ConfigError(f"sample_alpha must be in [0, 1], got {alpha}")
        w = np.asarray(counts, np.float64) ** alpha
        self.p = w / w.sum()
        self.size, self.rng = size, rng
        self._cum = np.cumsum(self.p)
        self._buf = np.empty(0, np.int64)

    def draw(self) -> np.ndarray:
        """``size`` item indices."""
        if self._buf.size < self.size:
            more = np.searchsorted(self._cum, self.rng.random(self.size * 64) * self._cum[-1], "right")
            self._buf = np.concatenate([self._buf, np.minimum(more, len(self.p) - 1)])
        out, self._buf = self._buf[: self.size], self._buf[self.size :]
        return out

    def log_expected_count(self, counts: np.ndarray, batch: int) -> np.ndarray:
        """log of each item's expected number of appearances among the candidates: ``batch`` targets
        drawn by support plus ``size`` extra draws (the logQ correction)."""
        freq = np.asarray(counts, np.float64) / max(float(np.sum(counts)), 1.0)
        return np.log(batch * freq + self.size * self.p + 1e-12)
