"""The oracle bound on a simulated world: the true next-item probabilities as a scorer.

Only for data written by ``shopml simulate`` (session ids ``s<digits>``, item ids ``i<digits>``); the
simulator is imported here and nowhere else in the recommender.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shopml.errors import DataError
from shopml.recs.data import Sessions
from shopml.recs.evaluate import prefix_rows

__all__ = ["OracleScorer"]


class OracleScorer:
    """Scores each item by its probability of being the next event given the simulator's latent state
    after the raw event just before the target (so collapsed repeats and filtered items do not hide
    anything from it)."""

    def __init__(self, world_dir: str | Path, items: list[str]) -> None:
        from shopml.simulate.sessions_oracle import SessionOracle

        if not all(i[:1] == "i" and i[1:].isdigit() for i in items):
            raise DataError("the oracle bound needs the simulator's item ids (i<digits>)")
        self.oracle = SessionOracle(world_dir)
        self.columns = np.array([int(i[1:]) for i in items], np.int64)

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """Oracle probabilities per prefix."""
        if (s.ordinal[sessions] < 0).any():
            raise DataError("the oracle bound needs the simulator's session ids (s<digits>)")
        _, target = prefix_rows(s, sessions)
        ordinal = np.repeat(s.ordinal[sessions], s.lengths[sessions] - 1)
        return self.oracle.scores(ordinal, s.raw_pos[target] - 1, self.columns)
