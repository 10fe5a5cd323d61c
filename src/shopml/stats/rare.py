"""Rare-class metrics over row weights: PR-AUC (average precision), ROC-AUC, F1, precision, recall,
recall at a precision floor, balanced accuracy, MCC, Brier score and expected cost, each computed for
every row of a weight matrix (a bootstrap resample is a row of multiplicities) from one score sort and
cumulative weighted counts: no Python loop over resamples. Used by training's intervals, the model kinds
and the gate.

PR-AUC is average precision (scikit-learn's step-wise definition, ``sum (R_k - R_{k-1}) P_k`` over
distinct thresholds); expected cost is per row under a :class:`shopml.stats.Costs`: a missed positive
costs its ``fn_costs`` entry (default ``costs.false_negative``), a false alarm ``costs.false_positive``.

>>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.4, 0.35, 0.8])
>>> round(float(weighted_average_precision(y, s, np.ones((1, 4)))[0]), 4)
0.8333
"""

from __future__ import annotations

import numpy as np

from shopml.errors import InsufficientDataError
from shopml.stats.costs import Costs

__all__ = [
    "METRICS",
    "segmented_average_precision",
    "sort_scored",
    "weighted_average_precision",
    "weighted_family",
]

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


def weighted_family(
    W: np.ndarray,
    y: np.ndarray,
    s: np.ndarray,
    c: np.ndarray,
    ends: np.ndarray,
    pred: np.ndarray,
    fp_cost: float,
    min_precision: float,
) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` for each row of multiplicities ``W`` (shape ``[B, n]``) over the
    score-sorted data of :func:`sort_scored` (``pred``: the decisions at its threshold)."""
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


def sort_scored(
    y: np.ndarray, scores: np.ndarray, threshold: float, costs: Costs, fn_costs: np.ndarray | None
) -> tuple[np.ndarray, ...]:
    """Labels, scores and miss costs sorted by descending score (stable), the last index of each tied
    score group and the decisions at ``threshold``: the input of :func:`weighted_family`."""
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


def weighted_average_precision(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision of ``score`` for each row of ``weights`` (shape ``[B, n]``) → shape ``[B]``.

    Only thresholds whose score group holds a positive add to the sum, so the weights are summed in one
    ``reduceat`` pass into segments that end at those groups (ties form one group, as in scikit-learn).
    """
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    ys = y[order].astype(bool)
    group = np.r_[0, np.cumsum(np.diff(s) != 0)]  # group id of each sorted row
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # last sorted index of each group
    pos = np.flatnonzero(ys)
    if pos.size == 0:
        return np.full(weights.shape[0], np.nan)
    pos_groups = np.unique(group[pos])
    seg_ends = ends[pos_groups]  # segment k ends at the k-th group that holds a positive
    starts = np.r_[0, seg_ends[:-1] + 1]
    w = weights[:, order[: seg_ends[-1] + 1]]
    seen = np.cumsum(np.add.reduceat(w, starts, axis=1), axis=1)
    seg_of_pos = np.searchsorted(pos_groups, group[pos])
    tp_seg = np.zeros((weights.shape[0], pos_groups.size))
    np.add.at(tp_seg.T, seg_of_pos, weights[:, order[pos]].T)
    tp = np.cumsum(tp_seg, axis=1)
    total = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(seen > 0, tp / seen, 0.0)
        out: np.ndarray = np.sum(np.where(total > 0, tp_seg / total, np.nan) * precision, axis=1)
    return out


def segmented_average_precision(
    y: np.ndarray, score: np.ndarray, weights: np.ndarray, segments: np.ndarray | None
) -> np.ndarray:
    """Average precision within each segment (e.g. the period one model served), averaged with the
    segments' positive weights as weights → shape ``[B]``. Scores of different segments are never ranked
    against each other: a model switch with differently scaled scores is not penalised for the scale.
    ``segments=None``: plain :func:`weighted_average_precision`."""
    if segments is None:
        return weighted_average_precision(y, score, weights)
    acc = np.zeros(weights.shape[0])
    total = np.zeros(weights.shape[0])
    for g in np.unique(segments):
        m = segments == g
        if not y[m].any():
            continue
        pos = weights[:, m] @ y[m].astype(np.float64)
        ap = weighted_average_precision(y[m], score[m], weights[:, m])
        acc += np.where(pos > 0, np.nan_to_num(ap) * pos, 0.0)
        total += pos
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = acc / total
    return out
