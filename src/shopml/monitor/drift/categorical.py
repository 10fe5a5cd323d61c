"""Categorical drift tests: chi-square (sparse cells pooled) and the debiased Jensen–Shannon distance.

PSI (in :mod:`shopml.monitor.drift.numeric`) accepts categorical columns too.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from shopml.monitor.drift.registry import CATEGORICAL, ColumnData, DriftTest, empty, register
from shopml.stats.special import chi2_sf

__all__ = ["ChiSquare", "JensenShannon", "cat_counts", "psi"]

FloatArray = npt.NDArray[np.float64]
MIN_EXPECTED = 5.0
_EPS = 1e-4


def psi(a: FloatArray, b: FloatArray) -> float:
    """Population stability index of two count vectors (shares floored at 1e-4)."""
    pa_ = np.maximum(a / max(a.sum(), 1.0), _EPS)
    pb = np.maximum(b / max(b.sum(), 1.0), _EPS)
    return float(np.sum((pb - pa_) * np.log(pb / pa_)))


def cat_counts(ref: ColumnData, cur: ColumnData) -> tuple[list[str], FloatArray, FloatArray]:
    """Union of categories and both sides' counts on it."""
    ra: dict[str, int] = ref.sketch.counts  # type: ignore[assignment]
    rb: dict[str, int] = cur.sketch.counts  # type: ignore[assignment]
    cats = sorted(set(ra) | set(rb))
    a = np.array([ra.get(c, 0) for c in cats], dtype=np.float64)
    return cats, a, np.array([rb.get(c, 0) for c in cats], dtype=np.float64)


def _pool_rare(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Merge categories with an expected count below ``MIN_EXPECTED`` on either side into one cell
    (the chi-square approximation fails on sparse cells; a lone unseen value would otherwise dominate)."""
    tot = a + b
    expected = np.minimum(tot * a.sum(), tot * b.sum()) / tot.sum()
    rare = expected < MIN_EXPECTED
    if not rare.any():
        return a, b
    return np.append(a[~rare], a[rare].sum()), np.append(b[~rare], b[rare].sum())


@register
class ChiSquare(DriftTest):
    """Pearson chi-square test of homogeneity on the category counts; categories expected fewer than 5
    times on either side are pooled into one cell (new categories are still reported by name)."""

    name = "chi2"
    kinds = frozenset({CATEGORICAL})
    uses_p_value = True
    default_threshold = 0.05
    description = "chi-square statistic, p-value"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        _, a, b = cat_counts(ref, cur)
        if not empty(ref, cur):
            a, b = _pool_rare(a, b)
        if empty(ref, cur) or len(a) < 2:
            return 0.0, 1.0, "exact", None
        n, m = a.sum(), b.sum()
        tot = a + b
        ea, eb = tot * n / (n + m), tot * m / (n + m)
        chi = float(np.sum((a - ea) ** 2 / ea + (b - eb) ** 2 / eb))
        return chi, chi2_sf(len(a) - 1, chi), "exact", 0.0


@register
class JensenShannon(DriftTest):
    """Jensen–Shannon distance (base 2, in [0, 1]) between the category frequencies, made robust to
    small windows: categories expected fewer than 5 times on either side are pooled (as for chi-square),
    and the divergence's expectation under no drift, ``(K-1) / (8 ln2 · n_eff)``, is subtracted before
    the root, so that sampling noise alone does not look relevant."""

    name = "jensenshannon"
    kinds = frozenset({CATEGORICAL})
    uses_p_value = False
    default_threshold = 0.1
    description = "Jensen–Shannon distance"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        _, a, b = cat_counts(ref, cur)
        if empty(ref, cur):
            return 0.0, None, "exact", None
        a, b = _pool_rare(a, b)
        pa_, pb = a / a.sum(), b / b.sum()
        mid = 0.5 * (pa_ + pb)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_a = np.where(pa_ > 0, pa_ * np.log2(pa_ / mid), 0.0)
            kl_b = np.where(pb > 0, pb * np.log2(pb / mid), 0.0)
        n_eff = a.sum() * b.sum() / (a.sum() + b.sum())
        noise = (len(a) - 1) / (8 * math.log(2) * n_eff)
        return float(math.sqrt(max(0.5 * (kl_a.sum() + kl_b.sum()) - noise, 0.0))), None, "exact", 0.0
