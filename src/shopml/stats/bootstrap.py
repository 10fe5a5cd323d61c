"""Bootstrap intervals of any weighted metric, and the paired difference of two models.

A metric is a callable taking row weights ``[b, n]`` (one resample per row, see
:func:`shopml.stats.resample_weights`) and returning one value per resample (``[b]``), or a mapping of
such arrays when one pass yields several metrics. The point estimate is the metric at the sample's own
weights (``sample_weight``, default all ones); the interval is the percentile interval of the resamples.

>>> y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
>>> mean = lambda w: w @ y / w.sum(axis=1)
>>> iv = bootstrap_interval(mean, y.size, n_resamples=200, level=0.9, seed=1)
>>> round(iv.value, 3), iv.low < iv.value < iv.high, iv.level
(0.667, True, 0.9)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from shopml.stats.interval import Interval
from shopml.stats.resample import Method, resample_weights

__all__ = ["PairedDifference", "bootstrap_interval", "bootstrap_intervals", "paired_difference"]

Metric = Callable[[np.ndarray], np.ndarray]
Metrics = Callable[[np.ndarray], Mapping[str, np.ndarray]]


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _point_weights(n: int, sample_weight: np.ndarray | None) -> np.ndarray:
    return (np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64))[None, :]


def bootstrap_intervals(
    metrics: Metrics,
    n: int,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
    groups: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    method: Method = "multinomial",
    chunk: int | None = None,
) -> dict[str, Interval]:
    """One :class:`Interval` per metric that ``metrics`` returns, over ``n_resamples`` resamples of the
    ``n`` rows (``groups``/``strata``/``method``/``chunk``: see :func:`resample_weights`)."""
    gen = _rng(seed)
    draws: dict[str, list[np.ndarray]] = {}
    weights = resample_weights(
        n_resamples,
        n,
        gen,
        groups=groups,
        strata=strata,
        sample_weight=sample_weight,
        method=method,
        chunk=chunk,
    )
    for w in weights:
        for k, v in metrics(w).items():
            draws.setdefault(k, []).append(np.asarray(v, dtype=np.float64))
    point = metrics(_point_weights(n, sample_weight))
    return {k: Interval.from_draws(float(point[k][0]), np.concatenate(draws[k]), level) for k in point}


def bootstrap_interval(metric: Metric, n: int, **kwargs: Any) -> Interval:
    """:func:`bootstrap_intervals` of a single metric (same keyword arguments)."""
    return bootstrap_intervals(lambda w: {"m": metric(w)}, n, **kwargs)["m"]


@dataclass(frozen=True)
class PairedDifference:
    """``b - a`` over the same resamples: each side's interval, the difference's, and one-sided figures.

    ``lower``: the one-sided lower confidence bound of ``b - a`` at ``level`` (the ``1 - level`` quantile
    of the resampled differences); ``p_not_better``: the share of resamples where ``b - a <= 0``.
    """

    a: Interval
    b: Interval
    diff: Interval
    lower: float
    p_not_better: float
    n_resamples: int

    @property
    def level(self) -> float:
        """The confidence level of every interval here."""
        return self.diff.level


def paired_difference(
    metric_a: Metric,
    metric_b: Metric,
    n: int,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int | np.random.Generator = 0,
    groups: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    chunk: int | None = None,
) -> PairedDifference:
    """Bootstrap ``metric_b - metric_a`` with both metrics evaluated on the same resampled rows (paired:
    what the two models share, such as hard rows, cancels out of the difference).

    >>> y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    >>> f = lambda w: w @ y / w.sum(axis=1)
    >>> d = paired_difference(f, f, y.size, n_resamples=50)
    >>> d.diff.value, d.diff.low, d.diff.high, d.p_not_better
    (0.0, 0.0, 0.0, 1.0)
    """
    gen = _rng(seed)
    ra: list[np.ndarray] = []
    rb: list[np.ndarray] = []
    weights = resample_weights(
        n_resamples, n, gen, groups=groups, strata=strata, sample_weight=sample_weight, chunk=chunk
    )
    for w in weights:
        ra.append(np.asarray(metric_a(w), dtype=np.float64))
        rb.append(np.asarray(metric_b(w), dtype=np.float64))
    full = _point_weights(n, sample_weight)
    pa, pb = float(metric_a(full)[0]), float(metric_b(full)[0])
    boot_a, boot_b = np.concatenate(ra), np.concatenate(rb)
    diffs = boot_b - boot_a
    ok = diffs[np.isfinite(diffs)]
    return PairedDifference(
        a=Interval.from_draws(pa, boot_a, level),
        b=Interval.from_draws(pb, boot_b, level),
        diff=Interval.from_draws(pb - pa, diffs, level),
        lower=float(np.quantile(ok, 1.0 - level)) if ok.size else float("nan"),
        p_not_better=float(np.mean(ok <= 0)) if ok.size else float("nan"),
        n_resamples=n_resamples,
    )
