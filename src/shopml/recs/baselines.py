"""Baseline recommenders, fitted and scored on the same split as the GRU (Ludewig & Jannach: simple
neighbourhood methods often match recurrent networks, so they are measured in the same run).

- :class:`Popularity`: training counts, the same list for everyone.
- :class:`SessionPopularity`: items of the current session first (by count), then popularity.
- :class:`ItemKNN`: items co-occurring with the last item in training sessions, cosine-like similarity
  ``c_ij / (n_i^0.5 n_j^0.5 + lambda)``.
- :class:`SequentialRules`: items that *followed* the last item within a few steps, weighted 1/steps.
- :class:`VSKNN`: the training sessions most similar to the whole current session (its events weighted
  linearly by recency), voting for their items.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import scipy.sparse as sp

from shopml.recs.data import Sessions
from shopml.recs.evaluate import prefix_rows

__all__ = ["VSKNN", "ItemKNN", "Popularity", "SequentialRules", "SessionPopularity"]


class Popularity:
    """Training popularity."""

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items

    def fit(self, s: Sessions) -> Self:
        """Count events per item."""
        self.counts_ = np.bincount(s.item, minlength=self.n_items).astype(np.float32)
        return self

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """The same scores for every prefix."""
        n = int((s.lengths[sessions] - 1).sum())
        return np.broadcast_to(self.counts_, (n, self.n_items)).copy()


class SessionPopularity(Popularity):
    """Counts within the session so far, ties broken by training popularity."""

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """Session counts + popularity / (max + 1)."""
        last, _ = prefix_rows(s, sessions)
        out = np.broadcast_to(self.counts_ / (self.counts_.max() + 1), (last.size, self.n_items)).copy()
        start = np.repeat(s.offsets[sessions], s.lengths[sessions] - 1)
        for i, (a, b) in enumerate(zip(start.tolist(), (last + 1).tolist(), strict=True)):
            np.add.at(out[i], s.item[a:b], 1.0)
        return out


def _session_item_matrix(s: Sessions, n_items: int, values: np.ndarray | None = None) -> sp.csr_matrix:
    v = np.ones(len(s.item), np.float32) if values is None else values
    m = sp.csr_matrix((v, (s.session_of(), s.item)), shape=(s.n_sessions, n_items))
    m.sum_duplicates()
    return m


class ItemKNN:
    """Co-occurrence similarity to the last item (GRU4Rec's item-kNN baseline)."""

    def __init__(self, n_items: int, lam: float = 20.0, alpha: float = 0.5) -> None:
        self.n_items, self.lam, self.alpha = n_items, lam, alpha

    def fit(self, s: Sessions) -> Self:
        """Session-item co-occurrence counts, normalised."""
        x = _session_item_matrix(s, self.n_items)
        x.data[:] = 1.0
        co = (x.T @ x).tocsr().astype(np.float32)
        co.setdiag(0.0)
        co.eliminate_zeros()
        n = np.asarray(x.sum(axis=0)).ravel()
        rows = np.repeat(np.arange(self.n_items), np.diff(co.indptr))
        co.data /= n[rows] ** self.alpha * n[co.indices] ** (1 - self.alpha) + self.lam
        self.sim_ = co
        return self

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """The last item's row of the similarity matrix."""
        last, _ = prefix_rows(s, sessions)
        return np.asarray(self.sim_[s.item[last]].toarray(), np.float32)


class SequentialRules(ItemKNN):
    """Rules a → b for b up to ``steps`` events after a in a training session, weight 1/distance."""

    def __init__(self, n_items: int, steps: int = 10) -> None:
        super().__init__(n_items)
        self.steps = steps

    def fit(self, s: Sessions) -> Self:
        """Sum the rule weights."""
        sid = s.session_of()
        a_parts, b_parts, w_parts = [], [], []
        for d in range(1, self.steps + 1):
            same = sid[d:] == sid[:-d]
            a_parts.append(s.item[:-d][same])
            b_parts.append(s.item[d:][same])
            w_parts.append(np.full(int(same.sum()), 1.0 / d, np.float32))
        a, b, w = np.concatenate(a_parts), np.concatenate(b_parts), np.concatenate(w_parts)
        self.sim_ = sp.csr_matrix((w, (a, b)), shape=(self.n_items, self.n_items))
        self.sim_.sum_duplicates()
        return self


class VSKNN:
    """Vector-multiplication session kNN (Ludewig & Jannach): the ``k`` training sessions most similar
    to the current one, among the ``recent`` most recent; the session's events weighted by position."""

    def __init__(self, n_items: int, k: int = 100, recent: int = 20_000) -> None:
        self.n_items, self.k, self.recent = n_items, k, recent

    def fit(self, s: Sessions) -> Self:
        """Keep the most recent training sessions as a binary session-item matrix."""
        end = s.time[s.offsets[1:] - 1]
        keep = np.sort(np.argsort(end, kind="stable")[-self.recent :])
        x = _session_item_matrix(s.take(keep), self.n_items)
        x.data[:] = 1.0
        self.x_ = x
        self.xt_ = x.T.tocsr()
        return self

    def score_sessions(self, s: Sessions, sessions: np.ndarray) -> np.ndarray:
        """Similarity-weighted votes of the nearest sessions."""
        last, _ = prefix_rows(s, sessions)
        start = np.repeat(s.offsets[sessions], s.lengths[sessions] - 1)
        size = last - start + 1
        row = np.repeat(np.arange(last.size), size)
        pos = np.arange(size.sum()) - np.repeat(np.cumsum(np.r_[0, size[:-1]]), size)
        ev = np.repeat(start, size) + pos
        weight = (pos + 1) / np.repeat(size, size)  # linear decay: the latest event weighs 1
        q = sp.csr_matrix((weight.astype(np.float32), (row, s.item[ev])), shape=(last.size, self.n_items))
        sim = np.asarray((q @ self.xt_).toarray(), np.float32)  # [prefixes, sessions]
        if sim.shape[1] > self.k:
            cut = np.partition(sim, -self.k, axis=1)[:, -self.k][:, None]
            sim = np.where(sim >= cut, sim, 0.0)
        return np.asarray((self.xt_ @ sim.T).T, np.float32)
