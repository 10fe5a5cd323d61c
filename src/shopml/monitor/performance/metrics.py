"""Classification metrics for many label/weight draws at once (bootstrap and CBPE share this core).

Rows are sorted by score once; each draw is a row of a ``(draws, n)`` matrix of labels ``Y`` and
weights ``W``. Average precision (PR-AUC) follows scikit-learn's definition (steps at distinct scores),
so with ``W = 1`` it equals ``sklearn.metrics.average_precision_score``. Draws are float32 (counts stay
exact below 2**24 rows) to halve the memory traffic.

>>> import numpy as np
>>> s = SortedScores(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 1, 0, 0]))
>>> m = s.metrics(np.array([[1.0, 0.0, 1.0, 0.0]]), None, Costs())
>>> round(float(m["pr_auc"][0]), 4), float(m["precision"][0]), float(m["recall"][0])
(0.8333, 0.5, 0.5)
"""

from __future__ import annotations

import numpy as np

from shopml.stats import Costs

__all__ = ["METRICS", "SortedScores"]

#: Metrics reported per window; higher is better except ``expected_cost``.
METRICS = ("pr_auc", "precision", "recall", "f1", "expected_cost")
_CHUNK_CELLS = 2_000_000


class SortedScores:
    """Scores sorted descending with the decision of each row, ready for batched metrics.

    ``miss_costs``: what missing each row costs if it is positive (:meth:`shopml.stats.Costs.miss_costs`,
    e.g. the payment's amount); ``None``: every miss costs ``costs.false_negative``.
    """

    def __init__(
        self, scores: np.ndarray, decisions: np.ndarray, miss_costs: np.ndarray | None = None
    ) -> None:
        order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
        self.order = order
        self.scores = np.asarray(scores, dtype=np.float64)[order]
        self.decisions = np.asarray(decisions, dtype=np.float32)[order]
        self.miss_costs = None if miss_costs is None else np.asarray(miss_costs, dtype=np.float32)[order]
        neg = -self.scores
        self.group_end = np.searchsorted(neg, neg, side="right") - 1  # last row with the same score
        self.has_ties = bool((self.group_end != np.arange(self.scores.size)).any())

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.scores.size)

    def metrics(self, y: np.ndarray, w: np.ndarray | None, costs: Costs) -> dict[str, np.ndarray]:
        """Each metric per draw. ``y``/``w`` are ``(draws, n)`` in sorted order (``w=None``: all ones)."""
        out: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
        step = max(1, _CHUNK_CELLS // max(self.n, 1))
        for i in range(0, y.shape[0], step):
            yy = y[i : i + step]
            ww = None if w is None else w[i : i + step]
            for name, values in self._chunk(yy, ww, costs).items():
                out[name].append(values)
        return {m: np.concatenate(v) if v else np.empty(0) for m, v in out.items()}

    def _chunk(self, y: np.ndarray, w: np.ndarray | None, costs: Costs) -> dict[str, np.ndarray]:
        wy = y if w is None else w * y
        tp_cum = np.cumsum(wy, axis=1)
        # unit weights (CBPE): predicted positives up to row i are simply i + 1
        pp_cum = np.arange(1, self.n + 1, dtype=np.float32)[None, :] if w is None else np.cumsum(w, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.has_ties:
                prec_at = tp_cum[:, self.group_end] / pp_cum[:, self.group_end]
            else:
                prec_at = tp_cum / pp_cum
            pos = tp_cum[:, -1]
            total = pp_cum[:, -1]
            ap = np.nansum(wy * prec_at, axis=1) / pos
            tp = wy @ self.decisions
            pp = np.full(len(y), self.decisions.sum()) if w is None else w @ self.decisions
            precision = tp / pp
            recall = tp / pos
            f1 = 2 * tp / (pp + pos)
            if self.miss_costs is None:
                missed = costs.false_negative * (pos - tp)
            else:
                wyc = wy * self.miss_costs
                missed = wyc.sum(axis=1) - wyc @ self.decisions
            cost = (costs.false_positive * (pp - tp) + missed) / total
        ap[pos == 0] = np.nan
        return {"pr_auc": ap, "precision": precision, "recall": recall, "f1": f1, "expected_cost": cost}
