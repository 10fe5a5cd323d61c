"""One interval type: a point estimate with a two-sided interval at a stated level.

>>> Interval.from_draws(0.5, np.array([0.1, 0.4, 0.6, 0.9, np.nan]), 0.5).to_dict()
{'value': 0.5, 'low': 0.325, 'high': 0.675, 'level': 0.5}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Interval"]


@dataclass(frozen=True)
class Interval:
    """``value`` (the point estimate) and the interval ``low``–``high`` at ``level`` (e.g. 0.95).

    NaN where undefined (a metric without positives). The JSON key of the estimate is ``value``, as in
    every stored training summary, monitor report and gate report.
    """

    value: float
    low: float
    high: float
    level: float

    def to_dict(self) -> dict[str, float | None]:
        """``{"value", "low", "high", "level"}`` (NaN → ``None``)."""
        return {k: (None if np.isnan(v) else float(v)) for k, v in vars(self).items()}

    @classmethod
    def from_draws(cls, value: float, draws: np.ndarray, level: float) -> Interval:
        """Percentile interval of ``draws`` (non-finite draws ignored; none left → NaN bounds)."""
        d = np.asarray(draws, dtype=np.float64)
        ok = d[np.isfinite(d)]
        if ok.size == 0:
            return cls(float(value), float("nan"), float("nan"), float(level))
        alpha = (1.0 - level) / 2.0
        lo, hi = np.quantile(ok, [alpha, 1.0 - alpha])
        return cls(float(value), float(lo), float(hi), float(level))
