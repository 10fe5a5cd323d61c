"""Check a frame (Arrow table) or records (list of dicts) against a schema.

Records go through the per-feature column checks of :mod:`shopml.schema.checks` (the serving codec's
own); tables through their vectorised Arrow equivalents with the same messages. Every problem names the
feature, the row (0-based) and the value, e.g. ``feature 'amount' must be a number, got "12,50" (row 3)``.
Categories outside a declared ``categories`` list are warnings by default (serving answers them as
unknown) and errors with ``unseen="error"`` (training: the declaration is the allowed set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import SchemaError
from shopml.schema.checks import (
    MISSING,
    FeatureCheck,
    check_booleans,
    check_categories,
    check_numbers,
    check_strings,
    parse_times,
    problem,
    range_text,
    show,
)
from shopml.schema.model import FeatureKind, FeatureSpec, Schema

__all__ = ["ValidationResult", "validate"]

MAX_PROBLEMS = 20
Records = Sequence[Mapping[str, Any]]
Unseen = Literal["warn", "error"]


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
    unseen: Unseen = "warn",
) -> ValidationResult:
    """Validate ``data`` against ``schema``; raise :class:`SchemaError` unless ``raise_errors=False``.

    >>> s = Schema(features=[FeatureSpec(name="amount", kind="numeric", min=0)])
    >>> print(validate([{"amount": "12,50"}], s, raise_errors=False).errors[0])
    feature 'amount' must be a number, got "12,50" (row 0)
    """
    if isinstance(data, pa.Table):
        result = _validate_table(data, schema, require_target, allow_extra)
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes):
        result = _validate_records(data, schema, require_target, allow_extra)
    else:
        raise SchemaError(f"expected an Arrow table or a list of records, got {type(data).__name__}")
    if unseen == "error":
        result.errors += result.warnings
        result.warnings = []
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
        res.errors.append(problem(name, f"must not be null: {col.null_count} nulls", row))
    if spec.kind == FeatureKind.NUMERIC:
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
            _explain_bad_numbers(name, col, res)
            return
        if pa.types.is_floating(t):
            if not spec.allow_nan:
                bad = pc.is_nan(col)
                if pc.any(bad).as_py():
                    res.errors.append(
                        problem(name, f"must not be NaN: {pc.sum(bad).as_py()} NaNs", _first_row(bad))
                    )
            inf = pc.is_inf(col)
            if pc.any(inf).as_py():
                res.errors.append(
                    problem(
                        name, f"must be a finite number: {pc.sum(inf).as_py()} inf values", _first_row(inf)
                    )
                )
        for bound, op in ((spec.min, pc.less), (spec.max, pc.greater)):
            if bound is None:
                continue
            out = pc.fill_null(op(col, bound), False)
            if pc.any(out).as_py():
                row = _first_row(out)
                got = f"got {show(col[row].as_py())} and {pc.sum(out).as_py() - 1} more"
                res.errors.append(problem(name, f"must be {range_text(spec.min, spec.max)}, {got}", row))
    elif spec.kind == FeatureKind.CATEGORICAL and spec.categories is not None:
        values = col.cast(pa.string()) if not pa.types.is_string(t) else col
        outside = pc.fill_null(pc.invert(pc.is_in(values, pa.array(spec.categories, pa.string()))), False)
        if pc.any(outside).as_py():
            names = sorted(v for v in pc.unique(pc.filter(values, outside)).to_pylist() if v is not None)
            allowed = show(list(spec.categories)) if len(spec.categories) > 10 else list(spec.categories)
            res.warnings.append(
                problem(
                    name, f"has categories {names[:10]} outside its declared {allowed}", _first_row(outside)
                )
            )
    elif spec.kind == FeatureKind.BOOLEAN:
        if not (pa.types.is_boolean(t) or pa.types.is_integer(t)):
            res.errors.append(problem(name, f"must be a boolean, got column type {t}"))
    elif spec.kind == FeatureKind.TIMESTAMP and not (
        pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_string(t)
    ):
        res.errors.append(problem(name, f"must be a timestamp, got column type {t}"))


def _explain_bad_numbers(name: str, col: pa.ChunkedArray, res: ValidationResult) -> None:
    for row, value in enumerate(col.to_pylist()):
        if value is None:
            continue
        try:
            float(value)
        except (TypeError, ValueError):
            res.errors.append(problem(name, f"must be a number, got {show(value)}", row))
            return
    res.errors.append(problem(name, f"must be a numeric column, got column type {col.type}"))


# --- records ----------------------------------------------------------------------------------


def _validate_records(
    records: Records, schema: Schema, require_target: bool, allow_extra: bool
) -> ValidationResult:
    """Per-row shape problems (not an object, unexpected fields), then each feature's values as one
    column through the shared checks (a field absent from a row reads as ``missing feature``)."""
    res = ValidationResult(rows=len(records))
    rows: list[Mapping[str, Any]] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            res.errors.append(f"row {i} must be an object of feature values, got {type(rec).__name__}")
            rows.append({})
            continue
        extra = [] if allow_extra else [n for n in rec if n not in schema]
        if extra:
            res.errors.append(f"unexpected fields {extra} (row {i}; expected only {schema.names})")
        rows.append(rec)
    for spec in _required(schema, require_target):
        values = [r.get(spec.name, MISSING) for r in rows]
        _check_record_column(FeatureCheck.of(spec), values, res)
    return res


def _check_record_column(c: FeatureCheck, values: list[Any], res: ValidationResult) -> None:
    kind, errors = c.kind, res.errors
    if kind in (FeatureKind.NUMERIC, FeatureKind.TARGET):
        check_numbers(c, values, errors, limit=float("inf"))
    elif kind == FeatureKind.CATEGORICAL:
        _, shown, count = check_categories(c, values, errors)
        if count and c.categories is not None:
            rows = [i for i, v in enumerate(shown) if v is not None and v not in c.categories]
            names = sorted({shown[i] for i in rows})
            declared = sorted(c.categories)
            res.warnings.append(
                problem(c.name, f"has categories {names[:10]} outside its declared {declared}", rows[0])
            )
    elif kind == FeatureKind.BOOLEAN:
        check_booleans(c, values, errors)
    else:
        for i, v in enumerate(values):
            if v is MISSING or (v is None and not c.nullable):
                c.absent(v, i, errors)
        present = [None if v is MISSING else v for v in values]
        if kind == FeatureKind.TIMESTAMP:
            parse_times(
                c.name, [v.isoformat() if isinstance(v, date) else v for v in present], errors, "feature"
            )
        else:
            check_strings(c.name, present, errors)
