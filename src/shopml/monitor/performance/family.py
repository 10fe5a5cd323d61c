"""Realised metrics of any model kind with block-bootstrap intervals: the kind's metric family
(:meth:`shopml.kinds.ModelKind.weighted_metrics`) evaluated on Poisson(1) weights of time blocks.

A kind that estimates performance before labels (binary: calibrated scores, see
:mod:`shopml.monitor.performance.estimate`) is measured by the score engine of
:func:`~shopml.monitor.performance.windows.realised_performance` instead, so that its realised and
estimated figures come from one definition. Every other kind (multiclass, regression) is measured here,
with the same draws: one Poisson(1) weight per block (``blocks``, e.g. the hour a row fell in, or a
recommender's session; ``None``: rows are independent), the pre-drawn ``weights`` reused across windows
when given. Rows spread over fewer than ``MIN_BLOCKS`` blocks (a burst of traffic within one hour) are
resampled one by one: a bootstrap over two or three blocks says nothing about the spread (over one it
gives an interval of zero width), so the interval then ignores the dependence between rows of a block.

>>> import numpy as np
>>> from shopml.kinds import get_kind
>>> y = np.arange(200.0); got = family_intervals(get_kind("regression"), y, y + 1.0, n_resamples=50)
>>> got["mae"].value, got["mae"].low == got["mae"].high == 1.0
(1.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shopml.kinds import ModelKind
from shopml.stats import Interval, block_index

__all__ = ["MIN_BLOCKS", "family_intervals"]

#: Fewest distinct blocks a block bootstrap resamples; fewer: rows are resampled.
MIN_BLOCKS = 10


def family_intervals(
    kind: ModelKind,
    labels: np.ndarray,
    pred: np.ndarray,
    *,
    context: Mapping[str, Any] | None = None,
    n_resamples: int = 200,
    level: float = 0.9,
    rng: np.random.Generator | None = None,
    weights: np.ndarray | None = None,
    blocks: np.ndarray | None = None,
) -> dict[str, Interval]:
    """Every metric of ``kind``'s family on labelled rows (``labels`` as the kind's metrics take them,
    ``pred`` its served output), with Poisson-bootstrap percentile intervals over ``blocks``."""
    gen = rng if rng is not None else np.random.default_rng(0)
    family = kind.weighted_metrics(labels, pred, **dict(context or {}))
    n = int(np.shape(labels)[0])
    point = family(np.ones((1, n)))
    ids, k = (None, n) if blocks is None else block_index(blocks)
    if ids is not None and k < MIN_BLOCKS:
        ids, k = None, n
    if weights is not None and weights.shape[1] >= k:
        w = np.asarray(weights[:, :k], dtype=np.float64)
    else:
        w = gen.poisson(1.0, size=(n_resamples, k)).astype(np.float64)
    if ids is not None:
        w = w[:, ids]
    draws = family(w)
    return {
        m: Interval.from_draws(float(np.asarray(point[m])[0]), np.asarray(draws[m], dtype=np.float64), level)
        for m in kind.metrics
    }
