"""Rare-class metrics with vectorised bootstrap confidence intervals (:mod:`shopml.stats`).

All metrics are computed from one score sort and cumulative weighted counts, so a bootstrap resample is
just a row of multiplicities (how often each row was drawn): a chunk of resamples is one matrix, with no
Python loop over resamples. PR-AUC is average precision (scikit-learn's step-wise definition); expected
cost is per row under a :class:`shopml.stats.Costs`: a missed positive costs its ``fn_costs`` entry
(default ``costs.false_negative``), a false alarm ``costs.false_positive``.
"""

from __future__ import annotations

import numpy as np

from shopml.errors import DataError, InsufficientDataError
from shopml.stats import Costs, Interval, bootstrap_intervals

__all__ = ["METRICS", "bootstrap_metrics", "point_metrics"]

#: Metric names in report order (PR-AUC first: never accuracy as the headline).
METRICS = (
    "pr_auc",
    "roc_auc",
    "f1",
    "precision",
    "recall",
    "recall_at_precision",
    "balanced_accuracy",
    "mcc",
    "brier",
    "expected_cost",
)


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def _weighted(
    W: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    c: np.ndarray,
    ends: np.ndarray,
    pred: np.ndarray,
    fp_cost: float,
    min_precision: float,
) -> dict[str, np.ndarray]:
    """Metrics for each row of multiplicities ``W`` (shape [B, n]) over score-sorted data."""
    wy = W * y
    tp = np.cumsum(wy, axis=1)[:, ends]
    fp = np.cumsum(W, axis=1)[:, ends] - tp
    pos, neg = tp[:, -1], fp[:, -1]
    prec = _div(tp, tp + fp)
    dtp = np.diff(tp, axis=1, prepend=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = (dtp * prec).sum(axis=1) / pos
        tpr = np.hstack([np.zeros((len(W), 1)), tp]) / pos[:, None]
        fpr = np.hstack([np.zeros((len(W), 1)), fp]) / neg[:, None]
    roc = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2, axis=1)
    rap = np.max(np.where(prec >= min_precision, tp, 0.0), axis=1) / np.where(pos > 0, pos, np.nan)
    TP = (wy * pred).sum(axis=1)
    FP = (W * pred).sum(axis=1) - TP
    FN, TN = pos - TP, neg - FP
    n = W.sum(axis=1)
    precision, recall = _div(TP, TP + FP), _div(TP, pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        mcc_den = np.sqrt((TP + FP) * (TP + FN) * (TN + FP) * (TN + FN))
    missed = (wy * (~pred) * c).sum(axis=1)
    return {
        "pr_auc": ap,
        "roc_auc": roc,
        "f1": _div(2 * precision * recall, precision + recall),
        "precision": precision,
        "recall": recall,
        "recall_at_precision": rap,
        "balanced_accuracy": (recall + _div(TN, neg)) / 2,
        "mcc": _div(TP * TN - FP * FN, mcc_den),
        "brier": (W * (s - y) ** 2).sum(axis=1) / n,
        "expected_cost": (missed + FP * fp_cost) / n,
    }


def _prepare(
    y: np.ndarray, scores: np.ndarray, threshold: float, costs: Costs, fn_costs: np.ndarray | None
) -> tuple[np.ndarray, ...]:
    yy = np.asarray(y, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if yy.size == 0 or yy.size != s.size:
        raise InsufficientDataError(
            f"metrics need equal, non-empty labels and scores ({yy.size} vs {s.size})"
        )
    if yy.sum() == 0 or yy.sum() == yy.size:
        raise InsufficientDataError(f"metrics need both classes; got {int(yy.sum())} positives in {yy.size}")
    c = costs.miss_costs(s.size) if fn_costs is None else np.asarray(fn_costs, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    yy, s, c = yy[order], s[order], c[order]
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]
    return yy, s, c, ends, s >= threshold


def point_metrics(
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    costs: Costs = Costs(),
    fn_costs: np.ndarray | None = None,
    min_precision: float = 0.9,
) -> dict[str, float]:
    """Every metric of :data:`METRICS` on the full sample.

    >>> m = point_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), 0.5)
    >>> round(m["pr_auc"], 4), round(m["roc_auc"], 2), m["recall"]
    (0.8333, 0.75, 0.5)
    """
    yy, s, c, ends, pred = _prepare(y, scores, threshold, costs, fn_costs)
    out = _weighted(np.ones((1, yy.size)), yy, s, c, ends, pred, costs.false_positive, min_precision)
    return {k: float(out[k][0]) for k in METRICS}


def bootstrap_metrics(
    y: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    *,
    costs: Costs = Costs(),
    fn_costs: np.ndarray | None = None,
    min_precision: float = 0.9,
    n_resamples: int = 500,
    level: float = 0.95,
    seed: int = 0,
    groups: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
) -> dict[str, Interval]:
    """Point estimates with percentile intervals from ``n_resamples`` resamples (threshold held fixed);
    rows count ``sample_weight`` times (default once), in the point estimate and in every resample.

    ``groups``: a group id per row (e.g. the hour of the event); whole groups are resampled, so rows that
    move together (a burst of card-testing payments) count once, not as independent evidence.
    ``None``: rows are resampled.
    """
    yy, s, c, ends, pred = _prepare(y, scores, threshold, costs, fn_costs)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")  # as in _prepare
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if sw is not None and sw.size != yy.size:
        raise DataError(f"sample_weight must hold {yy.size} finite weights >= 0 (got {sw.size} values)")
    return bootstrap_intervals(
        lambda w: _weighted(w, yy, s, c, ends, pred, costs.false_positive, min_precision),
        yy.size,
        n_resamples=n_resamples,
        level=level,
        seed=seed,
        groups=None if groups is None else np.asarray(groups)[order],
        sample_weight=None if sw is None else sw[order],
    )
