"""Data-quality checks of a current profile against the reference profile.

Rules (tolerances in :class:`~shopml.monitor.drift.config.DriftConfig`):

* ``all_null`` (error): a feature with values in the reference has none in the current data;
* ``null_rate`` (warning): the null rate rose by more than ``null_rate_tolerance`` (absolute);
* ``type_errors`` (error): values that are not of the declared type (e.g. ``"12,50"`` for a number);
* ``out_of_range`` (warning): more than ``out_of_range_tolerance`` of the values lie outside the
  reference's [min, max] (or the schema's declared bounds);
* ``row_count`` (warning): the row count differs from ``expected_rows`` by more than
  ``row_count_tolerance`` (relative), when an expectation is given.
"""

from __future__ import annotations

from shopml.monitor.drift.config import DriftConfig
from shopml.monitor.drift.report import QualityIssue
from shopml.profile.reference import Profile
from shopml.profile.sketch import NumericSketch, bucket_keys

__all__ = ["check_quality"]

import numpy as np


def _null_rate(sk: NumericSketch | object, rows: int) -> float:
    nulls = getattr(sk, "nulls", 0) + getattr(sk, "nans", 0)
    return nulls / rows if rows else 0.0


def check_quality(reference: Profile, current: Profile, config: DriftConfig) -> list[QualityIssue]:
    """All quality findings for the features both profiles hold."""
    issues: list[QualityIssue] = []
    for name, ref in reference.features.items():
        cur = current.features.get(name)
        if cur is None or current.rows == 0:
            continue
        if ref.count > 0 and cur.count == 0:
            issues.append(
                QualityIssue(
                    check="all_null",
                    column=name,
                    severity="error",
                    value=1.0,
                    expected=0.0,
                    message=f"feature '{name}' is null in all {current.rows} current rows",
                )
            )
            continue
        r_rate, c_rate = _null_rate(ref, reference.rows), _null_rate(cur, current.rows)
        if c_rate - r_rate > config.null_rate_tolerance:
            issues.append(
                QualityIssue(
                    check="null_rate",
                    column=name,
                    severity="warning",
                    value=c_rate,
                    expected=r_rate,
                    message=f"feature '{name}': null rate {c_rate:.1%} vs "
                    f"{r_rate:.1%} in the reference (tolerance +{config.null_rate_tolerance:.1%})",
                )
            )
        bad = current.type_errors.get(name, 0)
        if bad:
            issues.append(
                QualityIssue(
                    check="type_errors",
                    column=name,
                    severity="error",
                    value=bad / current.rows,
                    expected=0.0,
                    message=f"feature '{name}': {bad} value(s) are not of the declared type (read as null)",
                )
            )
        if isinstance(ref, NumericSketch) and isinstance(cur, NumericSketch) and ref.count and cur.count:
            issues.extend(_range(name, ref, cur, reference, config))
    if config.expected_rows is not None:
        change = abs(current.rows - config.expected_rows) / config.expected_rows
        if change > config.row_count_tolerance:
            issues.append(
                QualityIssue(
                    check="row_count",
                    column=None,
                    severity="warning",
                    value=current.rows,
                    expected=config.expected_rows,
                    message=f"{current.rows} rows, expected about "
                    f"{config.expected_rows} (±{config.row_count_tolerance:.0%})",
                )
            )
    return issues


def _range(
    name: str, ref: NumericSketch, cur: NumericSketch, reference: Profile, config: DriftConfig
) -> list[QualityIssue]:
    spec = next((f for f in reference.schema.features if f.name == name), None)
    lo = spec.min if spec is not None and spec.min is not None else ref.min
    hi = spec.max if spec is not None and spec.max is not None else ref.max
    lo_key, hi_key = bucket_keys(np.array([lo, hi]))
    outside = cur.counts[(cur.keys < lo_key) | (cur.keys > hi_key)].sum()
    share = float(outside) / cur.count
    if share <= config.out_of_range_tolerance:
        return []
    return [
        QualityIssue(
            check="out_of_range",
            column=name,
            severity="warning",
            value=share,
            expected=config.out_of_range_tolerance,
            message=f"feature '{name}': {share:.1%} of values outside [{lo:.4g}, {hi:.4g}]",
        )
    ]
