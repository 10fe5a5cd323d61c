"""Output drift: the model kind's own check of what the model answers (``ModelKind.output_drift``).

Each check names a logged output column and a drift test of :mod:`shopml.monitor.drift.registry`: KS on a
binary model's ``score`` or a regression model's ``value``, chi-square on a multiclass model's predicted
``label``. The reference is what the model answered on its training rows, recorded with the bundle: the
numeric output's sketch in the reference profile (the profile's ``scores``), a categorical output's counts
in ``bundle.json`` (``reference_outputs``). The decision rule is the score test's: significant at
``alpha`` AND relevant (effect ≥ ``min_effect_score`` for a number: the shift in reference standard
deviations; ≥ ``min_effect_categorical`` for a category: the Jensen–Shannon distance), each side holding
at least ``min_rows`` values.

The data-drift report already tests the logged ``score`` against the profile (its ``prediction`` entry);
a column it covered is not tested twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from shopml.kinds import get_kind
from shopml.logstore import PredictionLog
from shopml.monitor.cache import cached_profile
from shopml.monitor.drift.config import DriftConfig
from shopml.monitor.drift.registry import CATEGORICAL, NUMERIC, ColumnData, get_test
from shopml.profile.sketch import CategoricalSketch, NumericSketch
from shopml.registry import ModelBundle

__all__ = ["OutputCheck", "output_drift"]


@dataclass(frozen=True)
class OutputCheck:
    """One output's drift check in one window (``verdict``: ``drift``, ``ok`` or ``insufficient_data``)."""

    column: str
    test: str
    verdict: str
    n_reference: int
    n_current: int
    statistic: float | None = None
    p_value: float | None = None
    effect_size: float | None = None
    note: str | None = None

    @property
    def drifted(self) -> bool:
        """Whether this output drifted."""
        return self.verdict == "drift"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "column": self.column,
            "test": self.test,
            "verdict": self.verdict,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "effect_size": self.effect_size,
            "note": self.note,
        }


def _reference(bundle: ModelBundle, column: str, numeric: bool) -> NumericSketch | CategoricalSketch | None:
    if numeric:
        if not bundle.profile_path.exists():
            return None
        scores = cached_profile(bundle.profile_path).scores
        return scores if isinstance(scores, NumericSketch) else None
    extra = bundle.meta.model_extra or {}
    counts = (extra.get("reference_outputs") or {}).get(column)
    if not isinstance(counts, dict) or not counts:
        return None
    return CategoricalSketch(counts={str(k): int(v) for k, v in sorted(counts.items())})


def _check(
    bundle: ModelBundle,
    log: PredictionLog,
    column: str,
    test: str,
    start: datetime,
    end: datetime,
    cfg: DriftConfig,
) -> OutputCheck:
    current = log.read(start, end, [column]).column(column)
    numeric = CATEGORICAL not in get_test(test).kinds  # a test of numbers (KS) or of categories (chi-square)
    ref = _reference(bundle, column, numeric)
    if ref is None:
        where = "profile's output sketch" if numeric else "bundle.json reference_outputs"
        return OutputCheck(
            column, test, "insufficient_data", 0, len(current), note=f"no reference: no {where}"
        )
    if numeric:
        values = current.drop_null().to_numpy(zero_copy_only=False).astype(np.float64)
        cur: NumericSketch | CategoricalSketch = NumericSketch.from_values(values)
        floor = cfg.min_effect_score
    else:
        cur = CategoricalSketch.from_arrow(current)
        floor = cfg.min_effect_categorical
    n_ref, n_cur = ref.count, cur.count
    if min(n_ref, n_cur) < cfg.min_rows:
        return OutputCheck(
            column, test, "insufficient_data", n_ref, n_cur, note=f"fewer than {cfg.min_rows} rows"
        )
    s = get_test(test, NUMERIC if numeric else CATEGORICAL).score(ColumnData(ref), ColumnData(cur))
    drifted = s.p_value < cfg.alpha and s.effect_size >= floor
    return OutputCheck(
        column, test, "drift" if drifted else "ok", n_ref, n_cur, s.statistic, s.p_value, s.effect_size
    )


def output_drift(
    log: PredictionLog,
    bundle: ModelBundle,
    start: datetime,
    end: datetime,
    *,
    covered: set[str] | frozenset[str] = frozenset(),
    config: DriftConfig | None = None,
) -> list[OutputCheck]:
    """The kind's output-drift checks of ``[start, end)`` against the training reference, leaving out the
    ``covered`` columns (tested by the data-drift report) and columns the log does not hold."""
    cfg = config or DriftConfig()
    kind = get_kind(bundle.meta.kind)
    if log.count(start, end) == 0:
        return []
    return [
        _check(bundle, log, d.column, d.test, start, end, cfg)
        for d in kind.output_drift
        if d.column not in covered and d.column in log.columns
    ]
