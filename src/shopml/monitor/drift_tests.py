"""The registry of named drift tests: one narrow interface, one shared decision rule.

Every test declares the column kinds it accepts, whether its ``threshold`` is a p-value level (``ks``,
``cvm``, ``chi2``) or a distance (``wasserstein``, ``psi``, ``jensenshannon``), its default threshold,
and supplies only its per-feature score. The shared part (:func:`decide`) applies the decision rule
**significant AND relevant**:

* every feature gets a p-value — its own, or for distance tests the p-value of the kind's default
  significance test (KS for numeric, chi-square for categorical) on the same data — and the p-values of
  all features are corrected together (Benjamini–Hochberg by default, Bonferroni, or none);
* every feature gets an effect size — for distance tests the distance itself, for p-value tests the
  normalised Wasserstein distance (numeric: the shift in reference standard deviations) or the
  debiased Jensen–Shannon distance (categorical, base 2);
* a feature is drifted when ``p_adjusted < alpha`` AND ``effect_size >= floor``, the floor being the
  test's threshold for distance tests and ``min_effect`` (numeric 0.1σ, categorical JS 0.1) otherwise.

Exact tests run on raw values when both sides have them (small data); otherwise the statistic comes
from the sketches, with a stated error bound (for KS: the largest single-bucket mass).

>>> sorted(TESTS)
['chi2', 'cvm', 'jensenshannon', 'ks', 'psi', 'wasserstein']
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from shopml.errors import ConfigError
from shopml.monitor.sketch import ALPHA, CategoricalSketch, NumericSketch, bucket_mid

__all__ = [
    "CORRECTIONS",
    "TESTS",
    "ColumnData",
    "DriftTest",
    "TestScore",
    "adjust_p_values",
    "get_test",
    "register",
]

FloatArray = npt.NDArray[np.float64]
NUMERIC, CATEGORICAL = "numeric", "categorical"
CORRECTIONS = ("bh", "bonferroni", "none")
PSI_BINS = 10
MIN_EXPECTED = 5.0
_EPS = 1e-4


@dataclass(frozen=True)
class ColumnData:
    """One side of one feature: its sketch and, on small data, its raw finite values (exact tests)."""

    sketch: NumericSketch | CategoricalSketch
    values: FloatArray | None = None

    @property
    def n(self) -> int:
        """Number of non-null (finite) values."""
        return self.sketch.count


@dataclass(frozen=True)
class TestScore:
    """What a test returns for one feature."""

    __test__ = False  # not a pytest class

    statistic: float
    p_value: float
    effect_size: float
    method: str  # "exact" | "sketch" | "binned"
    error_bound: float | None = None


class DriftTest(ABC):
    """Base of every drift test: subclasses set the class variables and implement :meth:`statistic`."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    uses_p_value: ClassVar[bool]
    default_threshold: ClassVar[float]
    description: ClassVar[str]

    @abstractmethod
    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        """(statistic, p-value or None, method, error bound or None) for one feature."""

    def score(self, ref: ColumnData, cur: ColumnData) -> TestScore:
        """The statistic plus the p-value and effect size the shared decision rule needs."""
        stat, p, method, bound = self.statistic(ref, cur)
        kind = NUMERIC if isinstance(ref.sketch, NumericSketch) else CATEGORICAL
        if p is None:
            p = KS().statistic(ref, cur)[1] if kind == NUMERIC else ChiSquare().statistic(ref, cur)[1]
        if self.uses_p_value:
            effect = (
                Wasserstein().statistic(ref, cur)[0]
                if kind == NUMERIC
                else JensenShannon().statistic(ref, cur)[0]
            )
        else:
            effect = stat
        return TestScore(float(stat), float(p if p is not None else 1.0), float(effect), method, bound)


TESTS: dict[str, type[DriftTest]] = {}


def register(cls: type[DriftTest]) -> type[DriftTest]:
    """Class decorator adding a test to :data:`TESTS` under its ``name``."""
    TESTS[cls.name] = cls
    return cls


def get_test(name: str, kind: str | None = None) -> DriftTest:
    """An instance of the named test; :class:`ConfigError` names the known ones or the kind mismatch."""
    if name not in TESTS:
        raise ConfigError(f"unknown drift test '{name}' (known: {sorted(TESTS)})")
    cls = TESTS[name]
    if kind is not None and kind not in cls.kinds:
        raise ConfigError(f"drift test '{name}' does not accept {kind} columns (accepts {sorted(cls.kinds)})")
    return cls()


def adjust_p_values(p: npt.ArrayLike, method: str = "bh") -> FloatArray:
    """Multiple-testing correction: Benjamini–Hochberg step-up, Bonferroni, or none.

    >>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    pv = np.asarray(p, dtype=np.float64)
    if method not in CORRECTIONS:
        raise ConfigError(f"unknown multiple-testing correction '{method}' (known: {list(CORRECTIONS)})")
    m = pv.size
    if m == 0 or method == "none":
        return pv.copy()
    if method == "bonferroni":
        return np.minimum(pv * m, 1.0)
    order = np.argsort(pv)
    scaled = pv[order] * m / np.arange(1, m + 1)
    adj = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adj
    return out


# --- shared numeric helpers ---------------------------------------------------------------------
def _grid(a: NumericSketch, b: NumericSketch) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    keys = np.union1d(a.keys, b.keys)
    return keys, a.counts_on(keys), b.counts_on(keys)


def _scale(ref: ColumnData) -> float:
    sk = ref.sketch
    sd = float(np.std(ref.values)) if ref.values is not None else sk.std  # type: ignore[union-attr]
    return sd if sd > 0 and math.isfinite(sd) else 1.0


def _empty(ref: ColumnData, cur: ColumnData) -> bool:
    return ref.n == 0 or cur.n == 0


@register
class KS(DriftTest):
    """Two-sample Kolmogorov–Smirnov: exact (scipy) on raw values, asymptotic on the sketch grid."""

    name = "ks"
    kinds = frozenset({NUMERIC})
    uses_p_value = True
    default_threshold = 0.05
    description = "Kolmogorov–Smirnov D, p-value"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if _empty(ref, cur):
            return 0.0, 1.0, "exact", None
        if ref.values is not None and cur.values is not None:
            res = stats.ks_2samp(ref.values, cur.values)
            return float(res.statistic), float(res.pvalue), "exact", 0.0
        _, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        fa, fb = ca / ca.sum(), cb / cb.sum()
        d = float(np.max(np.abs(np.cumsum(fa) - np.cumsum(fb))))
        en = ref.n * cur.n / (ref.n + cur.n)
        p = float(stats.kstwobign.sf(d * math.sqrt(en)))
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
        if _empty(ref, cur):
            return 0.0, 1.0, "exact", None
        if ref.values is not None and cur.values is not None:
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
        if _empty(ref, cur):
            return 0.0, None, "exact", None
        scale = _scale(ref)
        if ref.values is not None and cur.values is not None:
            return float(stats.wasserstein_distance(ref.values, cur.values)) / scale, None, "exact", 0.0
        keys, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        mids = bucket_mid(keys)
        cdf_gap = np.abs(np.cumsum(ca) / ca.sum() - np.cumsum(cb) / cb.sum())[:-1]
        w = float(np.sum(cdf_gap * np.diff(mids)))
        bound = 2 * ALPHA * float(np.sum((ca + cb) * np.abs(mids)) / (ca.sum() + cb.sum())) / scale
        return w / scale, None, "sketch", bound


def _psi(a: FloatArray, b: FloatArray) -> float:
    pa_ = np.maximum(a / max(a.sum(), 1.0), _EPS)
    pb = np.maximum(b / max(b.sum(), 1.0), _EPS)
    return float(np.sum((pb - pa_) * np.log(pb / pa_)))


def _cat_counts(ref: ColumnData, cur: ColumnData) -> tuple[list[str], FloatArray, FloatArray]:
    ra: dict[str, int] = ref.sketch.counts  # type: ignore[assignment]
    rb: dict[str, int] = cur.sketch.counts  # type: ignore[assignment]
    cats = sorted(set(ra) | set(rb))
    a = np.array([ra.get(c, 0) for c in cats], dtype=np.float64)
    return cats, a, np.array([rb.get(c, 0) for c in cats], dtype=np.float64)


@register
class PSI(DriftTest):
    """Population stability index over the reference's deciles (numeric) or the categories."""

    name = "psi"
    kinds = frozenset({NUMERIC, CATEGORICAL})
    uses_p_value = False
    default_threshold = 0.2
    description = "population stability index"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if _empty(ref, cur):
            return 0.0, None, "binned", None
        if isinstance(ref.sketch, CategoricalSketch):
            _, a, b = _cat_counts(ref, cur)
            return _psi(a, b), None, "exact", 0.0
        _, ca, cb = _grid(ref.sketch, cur.sketch)  # type: ignore[arg-type]
        ref_cdf = np.cumsum(ca) / ca.sum()
        bins = np.minimum((np.concatenate([[0.0], ref_cdf[:-1]]) * PSI_BINS + 1e-9).astype(int), PSI_BINS - 1)
        return (
            _psi(
                np.bincount(bins, ca, PSI_BINS).astype(float), np.bincount(bins, cb, PSI_BINS).astype(float)
            ),
            None,
            "binned",
            None,
        )


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
        _, a, b = _cat_counts(ref, cur)
        if not _empty(ref, cur):
            a, b = _pool_rare(a, b)
        if _empty(ref, cur) or len(a) < 2:
            return 0.0, 1.0, "exact", None
        n, m = a.sum(), b.sum()
        tot = a + b
        ea, eb = tot * n / (n + m), tot * m / (n + m)
        chi = float(np.sum((a - ea) ** 2 / ea + (b - eb) ** 2 / eb))
        return chi, float(stats.chi2.sf(chi, len(a) - 1)), "exact", 0.0


@register
class JensenShannon(DriftTest):
    """Jensen–Shannon distance (base 2, in [0, 1]) between the category frequencies, debiased: the
    divergence's expectation under no drift, ``(K-1) / (8 ln2 · n_eff)``, is subtracted before the root,
    so that small windows do not look relevant through sampling noise alone."""

    name = "jensenshannon"
    kinds = frozenset({CATEGORICAL})
    uses_p_value = False
    default_threshold = 0.1
    description = "Jensen–Shannon distance"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        _, a, b = _cat_counts(ref, cur)
        if _empty(ref, cur):
            return 0.0, None, "exact", None
        pa_, pb = a / a.sum(), b / b.sum()
        mid = 0.5 * (pa_ + pb)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl_a = np.where(pa_ > 0, pa_ * np.log2(pa_ / mid), 0.0)
            kl_b = np.where(pb > 0, pb * np.log2(pb / mid), 0.0)
        n_eff = a.sum() * b.sum() / (a.sum() + b.sum())
        noise = (len(a) - 1) / (8 * math.log(2) * n_eff)
        return float(math.sqrt(max(0.5 * (kl_a.sum() + kl_b.sum()) - noise, 0.0))), None, "exact", 0.0
