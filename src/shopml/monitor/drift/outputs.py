"""Output drift: the model kind's own check of what the model answers (``ModelKind.output_drift``).

Each check names a logged output column and a drift test of :mod:`shopml.monitor.drift.registry`: KS on a
binary model's ``score`` or a regression model's ``value``, chi-square on a multiclass model's predicted
``label``. The reference is what the model answered on its training rows, recorded with the bundle: the
numeric output's sketch in the reference profile (the profile's ``scores``), a categorical output's counts
in ``bundle.json`` (``reference_outputs``). The decision rule is the score test's: significant at
``alpha`` AND relevant (effect ≥ ``min_effect_score`` for a number: the shift in reference standard
deviations; ≥ ``min_effect_categorical`` for a category: the Jensen–Shannon distance), each side holding
at least ``min_rows`` values.

A check may read its column through a reducer (``OutputDrift.reduce``, :data:`REDUCERS`): the value as
logged, a list column's last element (a recommender's session: the item the request was made from), or
whether a list holds anything (1.0/0.0: the share of requests with an unknown item). A reference in
``reference_outputs`` may be a numeric sketch (``{"type": "numeric", ...}``, :class:`NumericSketch`'s
``to_dict``) as well as category counts; counts that name an ``__other__`` category are top categories
plus the rest, and current categories the reference does not name count as ``__other__``. A distance
test (Jensen–Shannon, a share's rise) is relevant at its own threshold; a p-value test at the floors.

The data-drift report already tests the logged ``score`` against the profile (its ``prediction`` entry);
a column it covered is not tested twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import ConfigError
from shopml.kinds import OutputDrift, get_kind
from shopml.kinds.base import OTHER_CATEGORY
from shopml.logstore import PredictionLog
from shopml.monitor.cache import cached_profile
from shopml.monitor.drift.config import DriftConfig
from shopml.monitor.drift.registry import CATEGORICAL, EFFECT, NUMERIC, ColumnData, get_test
from shopml.profile.reference import float_values
from shopml.profile.sketch import CategoricalSketch, NumericSketch, sketch_from_dict
from shopml.registry import ModelBundle

__all__ = ["OTHER", "REDUCERS", "OutputCheck", "output_drift", "reduce_column"]

#: The category that stands for every category a top-categories reference does not name.
OTHER = OTHER_CATEGORY


def _last(column: pa.ChunkedArray) -> pa.Array:
    """A list column's last elements (null for an empty or null list)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    flat = arr.flatten()  # the elements of the non-null lists, in order
    n = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    ends = np.cumsum(n) - 1
    values = flat.take(pa.array(np.where(n > 0, ends, 0))) if len(flat) else pa.nulls(len(arr), flat.type)
    return pc.if_else(pa.array(n > 0), values, pa.nulls(len(arr), flat.type))


def _any(column: pa.ChunkedArray) -> pa.Array:
    """1.0 where a list column holds anything, else 0.0 (a null list: 0.0)."""
    n = pc.fill_null(pc.list_value_length(column.combine_chunks()), 0)
    return pc.cast(pc.greater(n, 0), pa.float64())


#: How a check reads its logged column: as logged, a list's last element, or whether a list holds anything.
REDUCERS: dict[str, Callable[[pa.ChunkedArray], pa.Array | pa.ChunkedArray]] = {
    "value": lambda c: c,
    "last": _last,
    "any": _any,
}


def reduce_column(column: pa.ChunkedArray, reduce: str) -> pa.Array | pa.ChunkedArray:
    """``column`` read through the named reducer; :class:`ConfigError` names the known ones."""
    if reduce not in REDUCERS:
        raise ConfigError(f"unknown output reducer '{reduce}' (known: {sorted(REDUCERS)})")
    return REDUCERS[reduce](column)


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
    extra = bundle.meta.model_extra or {}
    recorded = (extra.get("reference_outputs") or {}).get(column)
    if isinstance(recorded, dict) and "type" in recorded:  # a sketch (a numeric output's)
        sketch = sketch_from_dict(recorded)
        return sketch if isinstance(sketch, NumericSketch) == numeric else None
    if numeric:
        if not bundle.profile_path.exists():
            return None
        scores = cached_profile(bundle.profile_path).scores
        return scores if isinstance(scores, NumericSketch) else None
    if not isinstance(recorded, dict) or not recorded:
        return None
    return CategoricalSketch(counts={str(k): int(v) for k, v in sorted(recorded.items())})


def _fold(cur: CategoricalSketch, ref: CategoricalSketch) -> CategoricalSketch:
    """``cur`` with the categories a top-categories reference does not name counted as :data:`OTHER`."""
    if OTHER not in ref.counts:
        return cur
    counts: dict[str, int] = {}
    for k, v in cur.counts.items():
        key = k if k in ref.counts else OTHER
        counts[key] = counts.get(key, 0) + v
    return CategoricalSketch(counts=dict(sorted(counts.items())), nulls=cur.nulls)


def _check(
    bundle: ModelBundle, log: PredictionLog, d: OutputDrift, start: datetime, end: datetime, cfg: DriftConfig
) -> OutputCheck:
    column, test = d.column, d.test
    current = reduce_column(log.read(start, end, [column]).column(column), d.reduce)
    drift_test = get_test(test)
    numeric = CATEGORICAL not in drift_test.kinds  # a test of numbers (KS) or of categories (chi-square)
    ref = _reference(bundle, column, numeric)
    if ref is None:
        where = "profile's output sketch" if numeric else "bundle.json reference_outputs"
        return OutputCheck(
            column, test, "insufficient_data", 0, len(current), note=f"no reference: no {where}"
        )
    if numeric:
        values = float_values(current)
        cur: NumericSketch | CategoricalSketch = NumericSketch.from_values(values)
        floor = cfg.min_effect_score
    else:
        cur = _fold(CategoricalSketch.from_arrow(current), ref)  # type: ignore[arg-type]
        floor = cfg.min_effect_categorical
    if not drift_test.uses_p_value and test not in EFFECT.values():  # its own distance, its own threshold
        floor = drift_test.default_threshold
    if d.threshold is not None:  # the kind's own floor for this check
        floor = d.threshold
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
        _check(bundle, log, d, start, end, cfg)
        for d in kind.output_drift
        if d.column not in covered and d.column in log.columns
    ]
