"""Numeric drift tests: Kolmogorov–Smirnov, Cramér–von Mises, normalised Wasserstein, PSI.

Each runs exactly (scipy) on raw values when both sides have them, else on the sketches' common grid.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from shopml.monitor.drift.categorical import cat_counts, psi
from shopml.monitor.drift.registry import CATEGORICAL, NUMERIC, ColumnData, DriftTest, empty, register
from shopml.profile.sketch import ALPHA, CategoricalSketch, NumericSketch, bucket_mid
from shopml.stats.special import kolmogorov_sf

__all__ = ["KS", "PSI", "CramerVonMises", "Wasserstein"]

FloatArray = npt.NDArray[np.float64]
PSI_BINS = 10


def _grid(a: NumericSketch, b: NumericSketch) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    keys = np.union1d(a.keys, b.keys)
    return keys, a.counts_on(keys), b.counts_on(keys)


def _scale(ref: ColumnData) -> float:
    sk = ref.sketch
    sd = float(np.std(ref.values)) if ref.values is not None else sk.std  # type: ignore[union-attr]
    return sd if sd > 0 and math.isfinite(sd) else 1.0


@register
class KS(DriftTest):
    """Two-sample Kolmogorov–Smirnov: exact (scipy) on raw values, asymptotic on the sketch grid."""

    name = "ks"
    kinds = frozenset({NUMERIC})
    uses_p_value = True
    default_threshold = 0.05
    description = "Kolmogorov–Smirnov D, p-value"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if empty(ref, cur):
            return 0.0, 1.0, "exact", None
        if ref.values is not None and cur.values is not None:
            from scipy import stats  # here only: importing scipy.stats costs ~1 s of CPU

            res = stats.ks_2samp(ref.values, cur.values)
            return float(res.statistic), float(res.pvalue), "exact", 0.0
        _, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        fa, fb = ca / ca.sum(), cb / cb.sum()
        d = float(np.max(np.abs(np.cumsum(fa) - np.cumsum(fb))))
        en = ref.n * cur.n / (ref.n + cur.n)
        p = kolmogorov_sf(d * math.sqrt(en))  # = scipy.stats.kstwobign.sf
        return d, p, "sketch", float(np.max(np.maximum(fa, fb)))


@register
class CramerVonMises(DriftTest):
    """Two-sample Cramér–von Mises T: exact (scipy) on raw values, asymptotic on the sketch grid."""

    name = "cvm"
    kinds = frozenset({NUMERIC})
    uses_p_value = True
    default_threshold = 0.05
    description = "Cramér–von Mises T, p-value"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if empty(ref, cur):
            return 0.0, 1.0, "exact", None
        if ref.values is not None and cur.values is not None:
            from scipy import stats

            res = stats.cramervonmises_2samp(ref.values, cur.values)
            return float(res.statistic), float(res.pvalue), "exact", 0.0
        from scipy.stats._hypotests import _cdf_cvm_inf  # the limiting distribution scipy itself uses

        _, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        n, m = ca.sum(), cb.sum()
        diff = np.cumsum(ca) / n - np.cumsum(cb) / m
        t = float(n * m / (n + m) ** 2 * np.sum((ca + cb) * diff**2))
        p = float(min(max(1.0 - _cdf_cvm_inf(t), 0.0), 1.0))
        return t, p, "sketch", None


@register
class Wasserstein(DriftTest):
    """Wasserstein-1 distance divided by the reference standard deviation (a shift of δσ gives δ)."""

    name = "wasserstein"
    kinds = frozenset({NUMERIC})
    uses_p_value = False
    default_threshold = 0.1
    description = "normalised Wasserstein distance (σ units)"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if empty(ref, cur):
            return 0.0, None, "exact", None
        scale = _scale(ref)
        if ref.values is not None and cur.values is not None:
            from scipy import stats

            return float(stats.wasserstein_distance(ref.values, cur.values)) / scale, None, "exact", 0.0
        keys, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        mids = bucket_mid(keys)
        cdf_gap = np.abs(np.cumsum(ca) / ca.sum() - np.cumsum(cb) / cb.sum())[:-1]
        w = float(np.sum(cdf_gap * np.diff(mids)))
        bound = 2 * ALPHA * float(np.sum((ca + cb) * np.abs(mids)) / (ca.sum() + cb.sum())) / scale
        return w / scale, None, "sketch", bound


@register
class PSI(DriftTest):
    """Population stability index over the reference's deciles (numeric) or the categories."""

    name = "psi"
    kinds = frozenset({NUMERIC, CATEGORICAL})
    uses_p_value = False
    default_threshold = 0.2
    description = "population stability index"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if empty(ref, cur):
            return 0.0, None, "binned", None
        if isinstance(ref.sketch, CategoricalSketch):
            _, a, b = cat_counts(ref, cur)
            return psi(a, b), None, "exact", 0.0
        _, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        ref_cdf = np.cumsum(ca) / ca.sum()
        bins = np.minimum((np.concatenate([[0.0], ref_cdf[:-1]]) * PSI_BINS + 1e-9).astype(int), PSI_BINS - 1)
        return (
            psi(np.bincount(bins, ca, PSI_BINS).astype(float), np.bincount(bins, cb, PSI_BINS).astype(float)),
            None,
            "binned",
            None,
        )
