"""Estimated performance before labels arrive, from calibrated scores (the idea NannyML calls CBPE).

If scores are calibrated, the unknown label of a row is ``y ~ Bernoulli(score)``. Sampling every row's
label ``n_resamples`` times and computing each metric on each draw gives the distribution of the metric the
window *will* realise once its labels are in: its mean is the estimate, its percentiles the interval.
The interval covers the realised value at about ``level`` when scores are calibrated (tested over many
seeds). With ``blocks`` (the monitor passes hour blocks) each draw also resamples the window's time
blocks (Poisson weights): the interval then covers the level the model is expected to reach on traffic
*like* this window's, not only on these rows. That is the question an alert asks: one hour of
card-testing bursts moves a window's score mix, and the label-only interval made the stationary
simulated shop raise "drops" at 24,000 customers. It cannot see concept drift (``P(y|x)`` changing
while scores stay put): that is what realised performance and the stream detectors are for.
"""

from __future__ import annotations

import numpy as np

from shopml.errors import DataError, InsufficientDataError
from shopml.monitor.performance.metrics import METRICS, SortedScores
from shopml.stats import Costs, Interval, resample_weights

__all__ = ["estimate_performance"]


def estimate_performance(
    scores: np.ndarray,
    decisions: np.ndarray,
    *,
    costs: Costs = Costs(),
    miss_costs: np.ndarray | None = None,
    n_resamples: int = 200,
    level: float = 0.9,
    rng: np.random.Generator | None = None,
    blocks: np.ndarray | None = None,
) -> dict[str, Interval]:
    """Expected PR-AUC, precision, recall, F1 and expected cost at the logged decisions, with intervals
    (``blocks``: a block id per row, resampled in each draw as well; see the module docstring;
    ``miss_costs``: each row's cost if missed, see :class:`SortedScores`).

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
    sorted_ = SortedScores(s, np.asarray(decisions), miss_costs)
    y = (gen.random((n_resamples, sorted_.n), dtype=np.float32) < sorted_.scores).astype(np.float32)
    if blocks is None:
        draws = sorted_.metrics(y, None, costs)
    else:
        b = np.asarray(blocks)[sorted_.order]
        (w,) = resample_weights(
            n_resamples, sorted_.n, gen, groups=b, method="poisson", chunk=n_resamples, dtype=np.float32
        )
        draws = sorted_.metrics(y, w, costs)
    out = {}
    for m in METRICS:
        values = draws[m]
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
        out[m] = Interval.from_draws(mean, values, level)
    return out
