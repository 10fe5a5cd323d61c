"""Paired, stratified bootstrap of the PR-AUC difference between two models scored on the same rows
(the draws come from :mod:`shopml.stats`; this module holds the gate's metric and its report).

PR-AUC is average precision (scikit-learn's definition: ``sum (R_k - R_{k-1}) P_k`` over distinct
thresholds). A bootstrap resample is a vector of row multiplicities, so the PR-AUC of one resample is a
*weighted* average precision over the rows sorted once per model: every resample is a cumulative sum,
vectorised over resamples (no Python loop over the ``B`` resamples). The resample is drawn once and
used for both models (paired), and within each class (stratified: every resample keeps the holdout's
positive count, so PR-AUC is always defined on a rare class).

>>> y = np.array([0, 0, 1, 1]); s = np.array([0.1, 0.4, 0.35, 0.8])
>>> round(float(weighted_average_precision(y, s, np.ones((1, 4)))[0]), 4)
0.8333
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from shopml.errors import DataError, InsufficientDataError
from shopml.stats import paired_difference
from shopml.stats.rare import segmented_average_precision, weighted_average_precision

__all__ = [
    "PairedBootstrap",
    "paired_bootstrap",
    "segmented_average_precision",
    "weighted_average_precision",
]


@dataclass(frozen=True)
class PairedBootstrap:
    """The gate's figures: point estimates and bootstrap summary of ``challenger - champion`` PR-AUC
    (the JSON form of every gate report)."""

    n: int
    positives: int
    n_resamples: int
    level: float
    champion: float
    challenger: float
    diff: float
    diff_lower: float  # one-sided lower bound at ``level``
    diff_ci: tuple[float, float]  # two-sided interval at ``level``
    champion_ci: tuple[float, float]
    challenger_ci: tuple[float, float]
    p_not_better: float  # share of resamples with diff <= 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return asdict(self)


def paired_bootstrap(
    y: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    chunk: int = 250,
    groups: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
    segments: np.ndarray | None = None,
) -> PairedBootstrap:
    """Bootstrap the PR-AUC difference ``challenger - champion`` on the same resampled rows, drawn within
    each class (whole ``groups`` when given, in two strata: blocks with and without a positive; see
    :func:`shopml.stats.resample_weights`); ``sample_weight`` weighs rows (weighted average precision; a
    resample multiplies its counts by them); ``segments`` computes PR-AUC within each segment and averages
    (see :func:`segmented_average_precision`)."""
    y = np.asarray(y).astype(np.int8).ravel()
    a = np.asarray(champion, dtype=np.float64).ravel()
    b = np.asarray(challenger, dtype=np.float64).ravel()
    if not (y.size == a.size == b.size):
        raise DataError(
            f"labels and scores differ in length: y={y.size}, champion={a.size}, challenger={b.size}"
        )
    if not np.isin(y, (0, 1)).all():
        raise DataError("labels must be 0/1")
    positives = int(y.sum())
    if positives == 0 or positives == y.size:
        raise InsufficientDataError(
            f"the evaluation rows hold {positives} positives of {y.size}: need both classes"
        )
    if np.isnan(a).any() or np.isnan(b).any():
        raise DataError("scores contain NaN")
    seg = None if segments is None else np.asarray(segments).ravel()
    if seg is not None and seg.size != y.size:
        raise DataError(f"segments must hold one id per row ({y.size}), got {seg.size}")
    d = paired_difference(
        lambda w: segmented_average_precision(y, a, w, seg),
        lambda w: segmented_average_precision(y, b, w, seg),
        y.size,
        n_resamples=n_resamples,
        level=level,
        seed=seed,
        groups=groups,
        strata=y,
        sample_weight=sample_weight,
        chunk=chunk,
    )
    return PairedBootstrap(
        n=int(y.size),
        positives=positives,
        n_resamples=n_resamples,
        level=level,
        champion=d.a.value,
        challenger=d.b.value,
        diff=d.diff.value,
        diff_lower=d.lower,
        diff_ci=(d.diff.low, d.diff.high),
        champion_ci=(d.a.low, d.a.high),
        challenger_ci=(d.b.low, d.b.high),
        p_not_better=d.p_not_better,
    )
