"""Next-item evaluation: every event of a test session but the first is a target, predicted from the
events before it; the true item is ranked among **all** items with ties counted against it
(``shopml.kinds.ranking.full_ranks``); Recall@K and MRR@K with intervals from a bootstrap over whole
sessions (a session's predictions move together)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from shopml.kinds.ranking import full_ranks
from shopml.recs.data import Sessions
from shopml.stats import Interval, bootstrap_intervals

__all__ = [
    "Evaluation",
    "Scorer",
    "evaluate",
    "metric_names",
    "point_recall",
    "prefix_rows",
    "rank_intervals",
]


class Scorer(Protocol):
    """A fitted recommender: scores [positions, I] for every event but the last of the given sessions."""

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """One row per prefix (events 0..t, t < length - 1), sessions in order."""
        ...


def metric_names(k: int) -> tuple[str, str]:
    """``recall@K``, ``mrr@K``."""
    return f"recall@{k}", f"mrr@{k}"


@dataclass
class Evaluation:
    """Ranks of the true next items and the metrics with intervals."""

    name: str
    ranks: np.ndarray
    session: np.ndarray  # session index of each prediction (the bootstrap's blocks)
    metrics: dict[str, Interval]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready metrics."""
        return {
            "name": self.name,
            "predictions": int(self.ranks.size),
            "sessions": int(np.unique(self.session).size),
            "seconds": round(self.seconds, 3),
            **{k: v.to_dict() for k, v in self.metrics.items()},
        }


def prefix_rows(s: Sessions, sessions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row of each prefix's last event, row of its target) for every event but the last of ``sessions``."""
    lens = s.lengths[sessions] - 1
    start = np.repeat(s.offsets[sessions], lens)
    within = np.arange(lens.sum()) - np.repeat(np.cumsum(np.r_[0, lens[:-1]]), lens)
    last = start + within
    return last, last + 1


def _chunks(s: Sessions, max_rows: int) -> list[np.ndarray]:
    preds = s.lengths - 1
    out: list[np.ndarray] = []
    cur: list[int] = []
    size = 0
    for i, n in enumerate(preds.tolist()):
        if cur and size + n > max_rows:
            out.append(np.array(cur))
            cur, size = [], 0
        cur.append(i)
        size += n
    if cur:
        out.append(np.array(cur))
    return out


def evaluate(
    name: str,
    model: Scorer,
    s: Sessions,
    *,
    k: int = 20,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    max_rows: int = 1024,
) -> Evaluation:
    """Rank every target of ``s`` under ``model`` and measure Recall@K / MRR@K with session-block
    bootstrap intervals (``shopml.stats.bootstrap_intervals`` with ``groups``)."""
    began = time.perf_counter()
    ranks, session = [], []
    for chunk in _chunks(s, max_rows):
        _, target = prefix_rows(s, chunk)
        scores = model.score_sessions(s, chunk)
        ranks.append(full_ranks(s.item[target], scores))
        session.append(np.repeat(chunk, s.lengths[chunk] - 1))
    r, g = np.concatenate(ranks), np.concatenate(session)
    metrics = rank_intervals(r, g, k=k, n_resamples=n_resamples, level=level, seed=seed)
    return Evaluation(name, r, g, metrics, time.perf_counter() - began)


def rank_intervals(
    ranks: np.ndarray, session: np.ndarray, *, k: int, n_resamples: int, level: float, seed: int
) -> dict[str, Interval]:
    """Recall@K and MRR@K of ``ranks`` with intervals over sessions as bootstrap blocks."""
    hit = (ranks <= k).astype(np.float64)
    rr = hit / ranks
    rec, mrr = metric_names(k)

    def family(w: np.ndarray) -> dict[str, np.ndarray]:
        tot = w.sum(axis=1)
        return {rec: (w @ hit) / tot, mrr: (w @ rr) / tot}

    return bootstrap_intervals(
        family, ranks.size, n_resamples=n_resamples, level=level, seed=seed, groups=session
    )


def point_recall(model: Scorer, s: Sessions, k: int = 20, max_rows: int = 1024) -> float:
    """Recall@K of ``model`` on ``s`` without intervals (the validation metric of early stopping)."""
    hits, n = 0, 0
    for chunk in _chunks(s, max_rows):
        _, target = prefix_rows(s, chunk)
        ranks = full_ranks(s.item[target], model.score_sessions(s, chunk))
        hits += int((ranks <= k).sum())
        n += ranks.size
    return hits / max(n, 1)
