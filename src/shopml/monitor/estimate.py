"""Estimated performance before labels arrive, from calibrated scores (the idea NannyML calls CBPE).

If scores are calibrated, the unknown label of a row is ``y ~ Bernoulli(score)``. Sampling every row's
label ``n_samples`` times and computing each metric on each draw gives the distribution of the metric the
window *will* realise once its labels are in: its mean is the estimate, its percentiles the interval.
The interval covers the realised value at about ``level`` when scores are calibrated (tested over many
seeds). It cannot see concept drift (``P(y|x)`` changing while scores stay put): that is what realised
performance and the stream detectors are for.
"""

from __future__ import annotations

import numpy as np

from shopml.errors import DataError, InsufficientDataError
from shopml.monitor.metrics import METRICS, Costs, Interval, SortedScores

__all__ = ["estimate_performance"]


def estimate_performance(
    scores: np.ndarray,
    decisions: np.ndarray,
    *,
    costs: Costs = Costs(),
    n_samples: int = 200,
    level: float = 0.9,
    rng: np.random.Generator | None = None,
) -> dict[str, Interval]:
    """Expected PR-AUC, precision, recall, F1 and expected cost at the logged decisions, with intervals.

    >>> import numpy as np
    >>> s = np.random.default_rng(0).beta(1, 9, 2000)
    >>> est = estimate_performance(s, s >= 0.3, rng=np.random.default_rng(1))
    >>> 0 < est["precision"].low < est["precision"].value < est["precision"].high < 1
    True
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        raise InsufficientDataError("cannot estimate performance of an empty window")
    if np.isnan(s).any() or (s < 0).any() or (s > 1).any():
        raise DataError(
            "column 'score' must hold probabilities in [0, 1] without NaN to estimate performance"
        )
    gen = rng if rng is not None else np.random.default_rng(0)
    sorted_ = SortedScores(s, np.asarray(decisions))
    y = (gen.random((n_samples, sorted_.n), dtype=np.float32) < sorted_.scores).astype(np.float32)
    draws = sorted_.metrics(y, None, costs)
    out = {}
    for m in METRICS:
        values = draws[m]
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        out[m] = Interval.from_draws(mean, values, level)
    return out
