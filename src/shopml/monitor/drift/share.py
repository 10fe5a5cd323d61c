"""The rise of a share: how much more often a 0/1 column is 1 than in the reference.

For an output that is a yes/no per request, such as whether a recommender's request held an item the
model never saw (a cold item), the question is not "did the distribution change" but "did the share
rise, and by how much". The statistic is the rise in the share (current − reference, a fraction), the
p-value a one-sided two-proportion z test (each side's own variance), and the rise is the effect size:
relevant at ``default_threshold`` (+0.05, five points) or more. A falling share is no drift (rise 0).

>>> import numpy as np
>>> from shopml.profile.sketch import NumericSketch
>>> ref = ColumnData(NumericSketch.from_values(np.r_[np.ones(20), np.zeros(980)]))
>>> cur = ColumnData(NumericSketch.from_values(np.r_[np.ones(150), np.zeros(850)]))
>>> s = ShareRise().score(ref, cur)
>>> round(s.statistic, 3), s.p_value < 1e-6
(0.13, True)
"""

from __future__ import annotations

import math

from shopml.monitor.drift.registry import NUMERIC, ColumnData, DriftTest, empty, register
from shopml.profile.sketch import NumericSketch

__all__ = ["ShareRise"]


@register
class ShareRise(DriftTest):
    """The rise of the share of ones in a 0/1 column, with a one-sided two-proportion z test."""

    name = "share_rise"
    kinds = frozenset({NUMERIC})
    uses_p_value = False
    default_threshold = 0.05
    description = "rise of the share of ones (fraction), one-sided two-proportion z test"

    def statistic(self, ref: ColumnData, cur: ColumnData) -> tuple[float, float | None, str, float | None]:
        if empty(ref, cur):
            return 0.0, 1.0, "exact", None
        a, b = ref.sketch, cur.sketch
        if not isinstance(a, NumericSketch) or not isinstance(b, NumericSketch):
            raise TypeError("share_rise compares two numeric (0/1) sketches")
        rise = b.mean - a.mean
        # each side's own variance: p(1 - p) for a 0/1 column (the unpooled two-proportion test)
        se = math.sqrt(a.std**2 / a.count + b.std**2 / b.count)
        if se == 0:
            return max(rise, 0.0), 0.0 if rise > 0 else 1.0, "exact", 0.0
        from scipy.special import ndtr  # the normal CDF, without importing scipy.stats

        return max(rise, 0.0), float(ndtr(-rise / se)), "exact", 0.0
