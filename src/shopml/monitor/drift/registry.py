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
['chi2', 'cvm', 'jensenshannon', 'ks', 'mmd', 'new_tokens', 'psi', 'share_rise', 'wasserstein']
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from shopml.errors import ConfigError
from shopml.profile.sketch import CategoricalSketch, NumericSketch

__all__ = [
    "CATEGORICAL",
    "CORRECTIONS",
    "NUMERIC",
    "TESTS",
    "ColumnData",
    "DriftTest",
    "TestScore",
    "adjust_p_values",
    "empty",
    "get_test",
    "register",
]

FloatArray = npt.NDArray[np.float64]
NUMERIC, CATEGORICAL = "numeric", "categorical"
CORRECTIONS = ("bh", "bonferroni", "none")
#: The test whose p-value a distance test borrows, and the distance used as effect size, per kind.
SIGNIFICANCE = {NUMERIC: "ks", CATEGORICAL: "chi2"}
EFFECT = {NUMERIC: "wasserstein", CATEGORICAL: "jensenshannon"}


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
            p = TESTS[SIGNIFICANCE[kind]]().statistic(ref, cur)[1]
        effect = TESTS[EFFECT[kind]]().statistic(ref, cur)[0] if self.uses_p_value else stat
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


def empty(ref: ColumnData, cur: ColumnData) -> bool:
    """True when either side has no values (every test then answers "no evidence")."""
    return ref.n == 0 or cur.n == 0


# The concrete tests register themselves on import.
from shopml.monitor.drift import categorical, embedding, numeric, share  # noqa: E402, F401
from shopml.text import drift as _text_drift  # noqa: E402, F401  # new_tokens
