"""Check a frame (Arrow table) or records (list of dicts) against a schema.

Every problem names the column, the row (0-based) and what was expected, e.g.
``feature 'amount' must be a number, got '12,50' (row 3)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import SchemaError
from shopml.schema.model import FeatureKind, FeatureSpec, Schema

__all__ = ["ValidationResult", "validate"]

MAX_PROBLEMS = 20
Records = Sequence[Mapping[str, Any]]


@dataclass
class ValidationResult:
    """Errors make the input unusable; warnings (e.g. unseen categories) are served but reported."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True when there are no errors."""
        return not self.errors

    def raise_for_errors(self) -> ValidationResult:
        """Raise :class:`SchemaError` listing the errors, or return self."""
        if self.errors:
            more = len(self.errors) - MAX_PROBLEMS
            msg = "; ".join(self.errors[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
            raise SchemaError(msg, problems=list(self.errors))
        return self


def validate(
    data: pa.Table | Records,
    schema: Schema,
    *,
    require_target: bool = False,
    allow_extra: bool = False,
    raise_errors: bool = True,
) -> ValidationResult:
    """Validate ``data`` against ``schema``; raise :class:`SchemaError` unless ``raise_errors=False``.

    >>> s = Schema(features=[FeatureSpec(name="amount", kind="numeric", min=0)])
    >>> validate([{"amount": "12,50"}], s, raise_errors=False).errors
    ["feature 'amount' must be a number, got '12,50' (row 0)"]
    """
    if isinstance(data, pa.Table):
        result = _validate_table(data, schema, require_target, allow_extra)
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        result = _validate_records(data, schema, require_target, allow_extra)
    else:
        raise SchemaError(f"expected an Arrow table or a list of records, got {type(data).__name__}")
    return result.raise_for_errors() if raise_errors else result


def _required(schema: Schema, require_target: bool) -> list[FeatureSpec]:
    return [f for f in schema.features if f.kind != FeatureKind.TARGET or require_target]


def _check_columns(
    present: Sequence[str], schema: Schema, require_target: bool, allow_extra: bool, where: str
) -> list[str]:
    errors = []
    missing = [f.name for f in _required(schema, require_target) if f.name not in present]
    if missing:
        errors.append(f"missing {where} {missing}")
    if not allow_extra:
        extra = [n for n in present if n not in schema]
        if extra:
            errors.append(f"unexpected {where} {extra} (expected only {schema.names})")
    return errors


# --- tables -----------------------------------------------------------------------------------


def _first_row(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.index(mask, True).as_py())


def _validate_table(
    table: pa.Table, schema: Schema, require_target: bool, allow_extra: bool
) -> ValidationResult:
    res = ValidationResult(rows=table.num_rows)
    res.errors += _check_columns(table.column_names, schema, require_target, allow_extra, "columns")
    for spec in schema.features:
        if spec.name in table.column_names:
            _check_table_column(spec, table.column(spec.name), res)
    return res


def _check_table_column(spec: FeatureSpec, col: pa.ChunkedArray, res: ValidationResult) -> None:
    name, t = spec.name, col.type
    if col.null_count and not spec.nullable:
        row = _first_row(pc.is_null(col))
        res.errors.append(f"feature '{name}' must not be null: {col.null_count} nulls (row {row})")
    if spec.kind == FeatureKind.NUMERIC:
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
            _explain_bad_numbers(name, col, res)
            return
        if pa.types.is_floating(t):
            if not spec.allow_nan:
                bad = pc.is_nan(col)
                if pc.any(bad).as_py():
                    res.errors.append(
                        f"feature '{name}' must not be NaN: {pc.sum(bad).as_py()} NaNs"
                        f" (row {_first_row(bad)})"
                    )
            inf = pc.is_inf(col)
            if pc.any(inf).as_py():
                res.errors.append(
                    f"feature '{name}' must be finite: {pc.sum(inf).as_py()} inf values"
                    f" (row {_first_row(inf)})"
                )
        for bound, op, word in ((spec.min, pc.less, "below"), (spec.max, pc.greater, "above")):
            if bound is None:
                continue
            out = pc.fill_null(op(col, bound), False)
            if pc.any(out).as_py():
                row = _first_row(out)
                res.errors.append(
                    f"feature '{name}' is {word} its range [{spec.min}, {spec.max}]:"
                    f" {pc.sum(out).as_py()} values, e.g. {col[row].as_py()!r} (row {row})"
                )
    elif spec.kind == FeatureKind.CATEGORICAL and spec.categories is not None:
        values = col.cast(pa.string()) if not pa.types.is_string(t) else col
        unseen = pc.unique(pc.filter(values, pc.invert(pc.is_in(values, pa.array(spec.categories)))))
        names = [v for v in unseen.to_pylist() if v is not None]
        if names:
            res.warnings.append(f"feature '{name}' has unseen categories {sorted(names)[:10]}")
    elif spec.kind == FeatureKind.BOOLEAN:
        if not (pa.types.is_boolean(t) or pa.types.is_integer(t)):
            res.errors.append(f"feature '{name}' must be a boolean, got column type {t}")
    elif spec.kind == FeatureKind.TIMESTAMP and not (
        pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_string(t)
    ):
        res.errors.append(f"feature '{name}' must be a timestamp, got column type {t}")


def _explain_bad_numbers(name: str, col: pa.ChunkedArray, res: ValidationResult) -> None:
    for row, value in enumerate(col.to_pylist()):
        if value is None:
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            res.errors.append(f"feature '{name}' must be a number, got {value!r} (row {row})")
            return
    res.errors.append(f"feature '{name}' must be a numeric column, got column type {col.type}")


# --- records ----------------------------------------------------------------------------------


def _validate_records(
    records: Records, schema: Schema, require_target: bool, allow_extra: bool
) -> ValidationResult:
    res = ValidationResult(rows=len(records))
    required = _required(schema, require_target)
    for i, rec in enumerate(records):
        if len(res.errors) >= MAX_PROBLEMS:
            break
        if not isinstance(rec, Mapping):
            res.errors.append(f"row {i} must be an object of feature values, got {type(rec).__name__}")
            continue
        for e in _check_columns(list(rec), schema, require_target, allow_extra, "fields"):
            res.errors.append(f"{e} (row {i})")
        for spec in required:
            if spec.name in rec:
                problem = _check_value(spec, rec[spec.name])
                if problem is None:
                    continue
                if problem.startswith("unseen"):
                    res.warnings.append(f"feature '{spec.name}' has {problem} (row {i})")
                else:
                    res.errors.append(f"feature '{spec.name}' {problem} (row {i})")
    return res


def _check_value(spec: FeatureSpec, v: Any) -> str | None:
    if v is None:
        return None if spec.nullable else "must not be null"
    kind = spec.kind
    if kind in (FeatureKind.NUMERIC, FeatureKind.TARGET):
        if isinstance(v, bool) or not isinstance(v, int | float):
            return f"must be a number, got {v!r}"
        if isinstance(v, float) and not math.isfinite(v):
            if math.isnan(v):
                return None if spec.allow_nan else "must not be NaN"
            return "must be finite, got inf"
        if spec.min is not None and v < spec.min:
            return f"must be >= {spec.min}, got {v!r}"
        if spec.max is not None and v > spec.max:
            return f"must be <= {spec.max}, got {v!r}"
    elif kind == FeatureKind.CATEGORICAL:
        if not isinstance(v, str | int) or isinstance(v, bool):
            return f"must be a category (string), got {v!r}"
        if spec.categories is not None and str(v) not in spec.categories:
            return f"unseen category {v!r}"
    elif kind == FeatureKind.BOOLEAN:
        if not isinstance(v, bool) and v not in (0, 1):
            return f"must be a boolean, got {v!r}"
    elif kind in (FeatureKind.TEXT, FeatureKind.ID):
        if not isinstance(v, str | int) or isinstance(v, bool):
            return f"must be a string, got {v!r}"
    elif kind == FeatureKind.TIMESTAMP:
        if isinstance(v, datetime | date):
            return None
        if not isinstance(v, str):
            return f"must be an ISO-8601 timestamp, got {v!r}"
        try:
            datetime.fromisoformat(v)
        except ValueError:
            return f"must be an ISO-8601 timestamp, got {v!r}"
    return None
