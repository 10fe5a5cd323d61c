"""Delayed-feedback correction: weigh the positives that have arrived by how many are still to come.

Chargebacks arrive days to weeks after the purchase. At a retrain, a fraud that happened ``a`` days ago
is known only if its chargeback came within ``a`` days, which happens with probability ``F(a)``, the label
arrival curve. Taking pending rows as negative then under-counts recent frauds by ``1 - F(a)``, and most
of all the newest fraud tactic, which is exactly what a retrain should learn. Weighting each arrived
positive by ``1 / F(a)`` restores the expected positive mass per age (inverse-probability weighting; the
pending frauds still count as negatives, a small contamination at a rare class).

``F`` is estimated from the positives old enough that (almost) all their labels are in: rows at least
``horizon_days`` old at ``now``, their delays ``label time - event time``. Weights are capped at
``max_weight`` (``F`` below ``1 / max_weight`` is too little to lean on).

>>> curve = ArrivalCurve(np.array([1.0, 2.0, 4.0, 8.0]), horizon_days=30.0)
>>> curve.cdf(np.array([0.5, 2.0, 5.0, 40.0])).tolist()
[0.0, 0.5, 0.75, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopml.loop.policy import DataPolicy, LabelDelayPolicy

__all__ = ["ArrivalCurve", "arrival_curve", "arrival_weights"]

_DAY_US = 86_400e6


def _us(table: pa.Table, column: str) -> np.ndarray:
    """Microseconds since the epoch (NaN where null)."""
    col = pc.cast(table.column(column), pa.int64())
    return np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _positive(table: pa.Table, data: DataPolicy) -> np.ndarray:
    """True where the (resolved) target is 1."""
    return np.asarray(pc.fill_null(table.column(data.target), 0).to_numpy(zero_copy_only=False)) == 1


@dataclass(frozen=True)
class ArrivalCurve:
    """The empirical label arrival curve: sorted delays (days) of positives older than the horizon."""

    delays: np.ndarray
    horizon_days: float

    def cdf(self, age_days: np.ndarray) -> np.ndarray:
        """``F(age)``: the share of positives whose label has arrived by ``age`` days (1 past the horizon)."""
        f = np.searchsorted(self.delays, age_days, side="right") / max(self.delays.size, 1)
        return np.where(age_days >= self.horizon_days, 1.0, f)

    def describe(self) -> dict[str, float | int]:
        """Size and quantiles, for events and reports."""
        q = np.quantile(self.delays, [0.25, 0.5, 0.9]) if self.delays.size else [np.nan] * 3
        return {
            "positives": int(self.delays.size),
            "horizon_days": self.horizon_days,
            "delay_p25_days": round(float(q[0]), 2),
            "delay_median_days": round(float(q[1]), 2),
            "delay_p90_days": round(float(q[2]), 2),
        }


def arrival_curve(table: pa.Table, data: DataPolicy, now: datetime, horizon_days: float) -> ArrivalCurve:
    """The arrival curve from ``table``'s positives at least ``horizon_days`` old whose label is in."""
    now_us = now.timestamp() * 1e6
    event = _us(table, data.time_column)
    label = _us(table, data.label_time_column)
    y = _positive(table, data)
    old = (now_us - event) >= horizon_days * _DAY_US
    arrived = ~np.isnan(label) & (label <= now_us)
    delays = (label - event)[y & old & arrived] / _DAY_US
    return ArrivalCurve(np.sort(np.clip(delays, 0.0, None)), horizon_days)


def arrival_weights(
    table: pa.Table,
    data: DataPolicy,
    now: datetime,
    policy: LabelDelayPolicy,
    history: pa.Table,
    curve: ArrivalCurve | None = None,
) -> tuple[np.ndarray, dict[str, object]]:
    """Per-row weights for ``table`` (labels already resolved at ``now``): ``1 / F(age)`` for positives,
    1 for the rest; the curve comes from ``history`` (or is given, to reuse it). Returns the weights and
    a description for reports.

    Too few old positives to estimate the curve (``policy.min_positives``): all weights 1, and the
    description says why.
    """
    ones = np.ones(table.num_rows)
    if policy.correction == "none":
        return ones, {"correction": "none"}
    curve = curve or arrival_curve(history, data, now, policy.horizon_days)
    info: dict[str, object] = {"correction": policy.correction, **curve.describe()}
    if curve.delays.size < policy.min_positives:
        info["skipped"] = (
            f"{curve.delays.size} positives at least {policy.horizon_days:g} days old with their label in;"
            f" the arrival curve needs {policy.min_positives}"
        )
        return ones, info
    if table.num_rows == 0:
        return ones, info
    age = (now.timestamp() * 1e6 - _us(table, data.time_column)) / _DAY_US
    y = _positive(table, data)
    f = np.maximum(curve.cdf(np.clip(age, 0.0, None)), 1.0 / policy.max_weight)
    weights = np.where(y, 1.0 / f, 1.0)
    info["max_weight_used"] = round(float(weights.max()), 2)
    return weights, info
