"""JSON values straight to the arrays an ONNX model needs, checked against the schema in microseconds.

One :class:`InputCodec` per served model is compiled from the bundle: per input its kind, nullability,
bounds and known categories. Rows (``{"feature": value}`` objects) and Open Inference Protocol tensors
both become per-feature value lists that go through the same checks. Errors name the feature, the row
and the value; unseen categories are served as the contract's unknown token ``""`` and counted.

Rows take a fast path first: one pass per row with type checks and precomputed bounds, keeping the
row-major values and the client's own row dict (which becomes the log line). Anything unusual — a
null where the schema forbids it, an int category, an unseen category, a bad value — falls back to
the general column-wise path, which produces the same result or the full list of problems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shopml.errors import SchemaError
from shopml.registry.bundle import ModelBundle
from shopml.schema import FeatureKind
from shopml.serve.batch import Block, Encoded, batch_block, concat_blocks, feeds_of

__all__ = ["MISSING", "Block", "Encoded", "InputCodec", "batch_block", "concat_blocks"]

MAX_PROBLEMS = 20
FLOAT32_MAX = float(np.finfo(np.float32).max)
UNKNOWN = ""
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()
_NUM, _CAT, _BOOL = 0, 1, 2
_EMPTY_F = np.zeros((0, 0), dtype=np.float32)
_EMPTY_S = np.zeros((0, 0), dtype=object)


@dataclass(frozen=True)
class _Input:
    name: str
    code: int
    nullable: bool
    allow_nan: bool
    lo: float | None
    hi: float | None
    categories: frozenset[str] | None


_Plan = tuple[str, int, bool, float, float, "frozenset[str] | None"]


class InputCodec:
    """Compiled input checks and conversion for one model bundle."""

    def __init__(self, bundle: ModelBundle) -> None:
        schema = bundle.schema
        self.inputs: list[_Input] = []
        for name in bundle.meta.inputs:
            spec = schema[name]
            code = {FeatureKind.NUMERIC: _NUM, FeatureKind.CATEGORICAL: _CAT, FeatureKind.BOOLEAN: _BOOL}.get(
                spec.kind
            )
            if code is None:
                raise SchemaError(f"model input '{name}' has kind {spec.kind.value}; cannot serve it")
            cats = frozenset(spec.categories) if spec.categories is not None else None
            self.inputs.append(_Input(name, code, spec.nullable, spec.allow_nan, spec.min, spec.max, cats))
        self.names = [i.name for i in self.inputs]
        self.kinds = {i.name: ("numeric", "categorical", "boolean")[i.code] for i in self.inputs}
        self.block_names = (
            [i.name for i in self.inputs if i.code != _CAT],
            [i.name for i in self.inputs if i.code == _CAT],
        )
        self.id_column = bundle.meta.id_column
        self.time_column = bundle.meta.time_column
        self.extras = frozenset(c for c in (self.id_column, self.time_column) if c)
        self.allowed = frozenset(self.names) | self.extras
        # The fast path's checks: finite-and-in-bounds is one chained comparison (NaN fails it too).
        self._plan: list[_Plan] = [
            (
                i.name,
                i.code,
                i.nullable,
                -FLOAT32_MAX if i.lo is None else max(i.lo, -FLOAT32_MAX),
                FLOAT32_MAX if i.hi is None else min(i.hi, FLOAT32_MAX),
                i.categories,
            )
            for i in self.inputs
        ]

    # --- rows (/v1) -----------------------------------------------------------------------------
    def encode_rows(self, rows: list[Any]) -> Encoded:
        """Validate a list of ``{feature: value}`` objects and convert them."""
        if not rows:
            raise SchemaError("'instances' is empty: send at least one row")
        fast = self._fast_rows(rows)
        if fast is not None:
            return fast
        problems: list[str] = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise SchemaError(f"row {i} must be an object of feature values, got {type(row).__name__}")
            if not self.allowed.issuperset(row):
                extra = sorted(k for k in row if k not in self.allowed)
                problems.append(f"unexpected fields {extra} (row {i}; expected {self.names})")
        columns = {name: [r.get(name, MISSING) for r in rows] for name in self.names}
        ids = [r.get(self.id_column) for r in rows] if self.id_column else None
        times_raw = [r.get(self.time_column) for r in rows] if self.time_column else None
        return self._encode(len(rows), columns, ids, times_raw, problems)

    def _fast_rows(self, rows: list[Any]) -> Encoded | None:
        """Rows that need no conversion beyond int → float; None sends them to the general path."""
        frows: list[list[float]] = []
        srows: list[list[str]] = []
        allowed, plan, nan = self.allowed, self._plan, math.nan
        id_col, time_col = self.id_column, self.time_column
        for row in rows:
            if type(row) is not dict or not allowed.issuperset(row):
                return None
            floats: list[float] = []
            strings: list[str] = []
            for name, code, nullable, lo, hi, cats in plan:
                v = row.get(name, MISSING)
                t = type(v)
                if code == _NUM:
                    if t is float:
                        if not lo <= v <= hi:
                            return None
                        floats.append(v)
                    elif t is int:
                        f = float(v)
                        if not lo <= f <= hi:
                            return None
                        floats.append(f)
                    elif v is None and nullable:
                        floats.append(nan)
                    else:
                        return None
                elif code == _CAT:
                    if t is not str or (cats is not None and v not in cats):
                        return None
                    strings.append(v)
                elif v is True:
                    floats.append(1.0)
                elif v is False:
                    floats.append(0.0)
                else:
                    return None
            if id_col is not None and type(row.get(id_col)) not in (str, type(None)):
                return None
            frows.append(floats)
            srows.append(strings)
        times = None
        if time_col is not None:
            times = [r.get(time_col) for r in rows]
            for i, v in enumerate(times):
                if v is not None:
                    if type(v) is not str:
                        return None
                    try:
                        ts = datetime.fromisoformat(v)
                    except ValueError:
                        return None
                    times[i] = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        ids = [r.get(id_col) for r in rows] if id_col is not None else None
        return Encoded(len(rows), self, ids=ids, times=times, rows=rows, frows=frows, srows=srows)

    def logged_columns(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """Per input, the logged values of fast-path rows (numeric null as NaN, as the general path)."""
        logged: dict[str, list[Any]] = {}
        for inp in self.inputs:
            col = [r[inp.name] for r in rows]
            logged[inp.name] = [math.nan if v is None else float(v) for v in col] if inp.code == _NUM else col
        return logged

    # --- columns (OIP v2) -----------------------------------------------------------------------
    def encode_columns(self, n: int, columns: dict[str, list[Any]]) -> Encoded:
        """Validate per-feature value lists of length ``n`` (already shape-checked) and convert them."""
        extra = sorted(k for k in columns if k not in self.allowed)
        missing = [k for k in self.names if k not in columns]
        problems = []
        if missing:
            problems.append(f"missing inputs {missing}")
        if extra:
            problems.append(f"unexpected inputs {extra} (expected {self.names})")
        if problems:
            raise SchemaError("; ".join(problems), problems=problems)
        ids = columns.get(self.id_column) if self.id_column else None
        times = columns.get(self.time_column) if self.time_column else None
        return self._encode(n, {k: columns[k] for k in self.names}, ids, times, [])

    # --- shared ---------------------------------------------------------------------------------
    def _encode(
        self,
        n: int,
        columns: dict[str, list[Any]],
        ids: list[Any] | None,
        times_raw: list[Any] | None,
        problems: list[str],
    ) -> Encoded:
        logged: dict[str, list[Any]] = {}
        unseen: dict[str, int] = {}
        floats: list[list[float]] = []  # numeric and boolean inputs, in float_names order
        strings: list[list[str]] = []  # categorical inputs, in string_names order
        for inp in self.inputs:
            values = columns[inp.name]
            if inp.code == _NUM:
                out = _numeric(inp, values, problems)
                floats.append(out)
                logged[inp.name] = out  # NaN = null, written as null by the log
            elif inp.code == _CAT:
                served, shown, count = _categorical(inp, values, problems)
                strings.append(served)
                logged[inp.name] = shown
                if count:
                    unseen[inp.name] = count
            else:
                flags = _boolean(inp, values, problems)
                floats.append([math.nan if b is None else float(b) for b in flags])
                logged[inp.name] = flags
            if len(problems) >= MAX_PROBLEMS:
                break
        block: Block = (_EMPTY_F, _EMPTY_S)
        if not problems:  # one array per kind, not one per input
            block = (
                np.array(floats, dtype=np.float32).reshape(len(floats), n),
                np.array(strings, dtype=object).reshape(len(strings), n),
            )
        times = _times(self.time_column, times_raw, problems) if times_raw is not None else None
        if ids is not None:
            for i, v in enumerate(ids):
                if v is not None and not isinstance(v, str):
                    if isinstance(v, int) and not isinstance(v, bool):
                        ids[i] = str(v)
                    else:
                        problems.append(f"field '{self.id_column}' must be a string, got {v!r} (row {i})")
        if problems:
            more = len(problems) - MAX_PROBLEMS
            msg = "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
            raise SchemaError(msg, problems=problems)
        return Encoded(n, self, block=block, logged=logged, unseen=unseen, ids=ids, times=times)

    def feeds(self, block: Block) -> dict[str, np.ndarray]:
        """ONNX feeds of a (possibly concatenated) block."""
        return feeds_of(self.block_names, block)


def _numeric(inp: _Input, values: list[Any], problems: list[str]) -> list[float]:
    out: list[float] = []
    for i, v in enumerate(values):
        t = type(v)
        if t is float or t is int:
            f = float(v)
            if f != f:
                if not inp.allow_nan:
                    problems.append(f"feature '{inp.name}' must not be NaN (row {i})")
            elif not -FLOAT32_MAX <= f <= FLOAT32_MAX:
                problems.append(f"feature '{inp.name}' must be finite (float32), got {v!r} (row {i})")
            elif (inp.lo is not None and f < inp.lo) or (inp.hi is not None and f > inp.hi):
                problems.append(f"feature '{inp.name}' must be in [{inp.lo}, {inp.hi}], got {v!r} (row {i})")
            out.append(f)
        elif v is None:
            if not inp.nullable:
                problems.append(f"feature '{inp.name}' must not be null (row {i})")
            out.append(math.nan)
        elif v is MISSING:
            problems.append(f"missing feature '{inp.name}' (row {i})")
            out.append(math.nan)
        else:
            problems.append(f"feature '{inp.name}' must be a number, got {v!r} (row {i})")
            out.append(math.nan)
    return out


def _categorical(inp: _Input, values: list[Any], problems: list[str]) -> tuple[list[str], list[Any], int]:
    served: list[str] = []
    shown: list[Any] = []
    unseen = 0
    cats = inp.categories
    for i, v in enumerate(values):
        t = type(v)
        if t is str or t is int:
            s = v if t is str else str(v)
            shown.append(s)
            if cats is not None and s not in cats:
                unseen += 1
                s = UNKNOWN
            served.append(s)
            continue
        if v is None:
            if not inp.nullable:
                problems.append(f"feature '{inp.name}' must not be null (row {i})")
        elif v is MISSING:
            problems.append(f"missing feature '{inp.name}' (row {i})")
        else:
            problems.append(f"feature '{inp.name}' must be a category (string), got {v!r} (row {i})")
        served.append(UNKNOWN)
        shown.append(None)
    return served, shown, unseen


def _boolean(inp: _Input, values: list[Any], problems: list[str]) -> list[bool | None]:
    out: list[bool | None] = []
    for i, v in enumerate(values):
        if v is True or v is False:
            out.append(v)
        elif type(v) is int and v in (0, 1):
            out.append(bool(v))
        elif v is None:
            if not inp.nullable:
                problems.append(f"feature '{inp.name}' must not be null (row {i})")
            out.append(None)
        elif v is MISSING:
            problems.append(f"missing feature '{inp.name}' (row {i})")
            out.append(None)
        else:
            problems.append(f"feature '{inp.name}' must be a boolean, got {v!r} (row {i})")
            out.append(None)
    return out


def _times(name: str | None, values: list[Any], problems: list[str]) -> list[datetime | None]:
    out: list[datetime | None] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        try:
            if not isinstance(v, str):
                raise ValueError
            ts = datetime.fromisoformat(v)
        except ValueError:
            problems.append(f"field '{name}' must be an ISO-8601 timestamp, got {v!r} (row {i})")
            out.append(None)
            continue
        out.append(ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC))
    return out
