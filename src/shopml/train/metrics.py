"""A trained rare-class model's metrics on its test rows, with vectorised bootstrap confidence intervals.

The metrics themselves are :mod:`shopml.stats.rare`'s weighted family (one score sort, cumulative
weighted counts, a bootstrap resample is a row of multiplicities); the draws are :mod:`shopml.stats`'s.
"""

from __future__ import annotations

import numpy as np

from shopml.errors import DataError
from shopml.stats import Costs, Interval, bootstrap_intervals
from shopml.stats.rare import METRICS, sort_scored, weighted_family

__all__ = ["METRICS", "bootstrap_metrics", "point_metrics"]


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
    yy, s, c, ends, pred = sort_scored(y, scores, threshold, costs, fn_costs)
    out = weighted_family(np.ones((1, yy.size)), yy, s, c, ends, pred, costs.false_positive, min_precision)
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
    yy, s, c, ends, pred = sort_scored(y, scores, threshold, costs, fn_costs)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")  # as in sort_scored
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if sw is not None and sw.size != yy.size:
        raise DataError(f"sample_weight must hold {yy.size} finite weights >= 0 (got {sw.size} values)")
    return bootstrap_intervals(
        lambda w: weighted_family(w, yy, s, c, ends, pred, costs.false_positive, min_precision),
        yy.size,
        n_resamples=n_resamples,
        level=level,
        seed=seed,
        groups=None if groups is None else np.asarray(groups)[order],
        sample_weight=None if sw is None else sw[order],
    )
