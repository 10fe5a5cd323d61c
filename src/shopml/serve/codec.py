"""JSON values straight to the arrays an ONNX model needs, checked against the schema in microseconds.

One :class:`InputCodec` per served model is compiled from the bundle: per input a
:class:`~shopml.schema.FeatureCheck` (kind, nullability, bounds, known categories). Rows
(``{"feature": value}`` objects) and Open Inference Protocol tensors both become per-feature value lists
that go through the schema's own column checks (:mod:`shopml.schema.checks`, the ones training's data
loading uses too). Errors name the feature, the row and the value; unseen categories are served as the
contract's unknown token ``""`` and counted.

Rows take a fast path first: one pass per row with type checks against the same compiled checks
(:attr:`FeatureCheck.fast_bounds`, the category sets, :func:`~shopml.schema.checks.parse_time`), keeping
the row-major values and the client's own row dict (which becomes the log line). Anything unusual — a
null where the schema forbids it, an int category, an unseen category, a bad value — falls back to the
general column-wise path, which produces the same result or the full list of problems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from shopml.errors import SchemaError
from shopml.registry.bundle import ModelBundle
from shopml.schema import FeatureKind
from shopml.schema.checks import (
    MISSING,
    FeatureCheck,
    check_booleans,
    check_categories,
    check_numbers,
    check_strings,
    parse_time,
    parse_times,
)
from shopml.serve.batch import Block, Encoded, batch_block, concat_blocks, feeds_of

__all__ = ["MISSING", "Block", "Encoded", "InputCodec", "batch_block", "concat_blocks"]

MAX_PROBLEMS = 20
_NUM, _CAT, _BOOL = 0, 1, 2
_CODES = {FeatureKind.NUMERIC: _NUM, FeatureKind.CATEGORICAL: _CAT, FeatureKind.BOOLEAN: _BOOL}
_EMPTY_F = np.zeros((0, 0), dtype=np.float32)
_EMPTY_S = np.zeros((0, 0), dtype=object)

_DTYPES = {"numeric": "FP32", "boolean": "BOOL", "categorical": "BYTES"}

_Plan = tuple[str, int, bool, float, float, "frozenset[str] | None"]


class InputCodec:
    """Compiled input checks and conversion for one model bundle (feature rows)."""

    layout = "rows"
    v1_keys = frozenset({"instances"})
    #: Prediction-log columns beyond the features and the kind's outputs: none.
    log_types: Mapping[str, str] = {}  # read-only
    matrix: frozenset[str] = frozenset()  # inputs of shape [N, L]: none, every input is [N, 1]
    concat = staticmethod(batch_block)

    def __init__(self, bundle: ModelBundle, max_k: int | None = None) -> None:
        """``max_k`` is accepted for the common codec signature; feature rows take no K."""
        schema = bundle.schema
        self.inputs: list[FeatureCheck] = []
        for name in bundle.meta.inputs:
            spec = schema[name]
            if spec.kind not in _CODES:
                raise SchemaError(f"model input '{name}' has kind {spec.kind.value}; cannot serve it")
            self.inputs.append(FeatureCheck.of(spec))
        self.names = [i.name for i in self.inputs]
        self.kinds = {i.name: i.kind.value for i in self.inputs}
        self.block_names = (
            [i.name for i in self.inputs if i.kind != FeatureKind.CATEGORICAL],
            [i.name for i in self.inputs if i.kind == FeatureKind.CATEGORICAL],
        )
        self.id_column = bundle.meta.id_column
        self.time_column = bundle.meta.time_column
        self.extras = frozenset(c for c in (self.id_column, self.time_column) if c)
        self.allowed = frozenset(self.names) | self.extras
        # The fast path's checks: finite-and-in-bounds is one chained comparison (NaN fails it too).
        self._plan: list[_Plan] = [
            (i.name, _CODES[i.kind], i.nullable, *i.fast_bounds, i.categories) for i in self.inputs
        ]

    # --- rows (/v1) -----------------------------------------------------------------------------
    @property
    def log_kinds(self) -> dict[str, str]:
        """The logged features and their kinds."""
        return self.kinds

    def encode_rows(self, rows: list[Any], params: Any = None) -> Encoded:
        """Validate a list of ``{feature: value}`` objects and convert them (no request parameters)."""
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
                    try:
                        times[i] = parse_time(v)
                    except ValueError:
                        return None
        ids = [r.get(id_col) for r in rows] if id_col is not None else None
        return Encoded(len(rows), self, ids=ids, times=times, rows=rows, frows=frows, srows=srows)

    def logged_columns(self, rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        """Per input, the logged values of fast-path rows (numeric null as NaN, as the general path)."""
        logged: dict[str, list[Any]] = {}
        for inp in self.inputs:
            col = [r[inp.name] for r in rows]
            numeric = inp.kind == FeatureKind.NUMERIC
            logged[inp.name] = [math.nan if v is None else float(v) for v in col] if numeric else col
        return logged

    # --- columns (OIP v2) -----------------------------------------------------------------------
    def encode_columns(self, n: int, columns: dict[str, list[Any]], params: Any = None) -> Encoded:
        """Validate per-feature value lists of length ``n`` (already shape-checked) and convert them
        (request ``params`` are not used by feature rows)."""
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
            if inp.kind == FeatureKind.NUMERIC:
                out = check_numbers(inp, values, problems)
                floats.append(out)
                logged[inp.name] = out  # NaN = null, written as null by the log
            elif inp.kind == FeatureKind.CATEGORICAL:
                served, shown, count = check_categories(inp, values, problems)
                strings.append(served)
                logged[inp.name] = shown
                if count:
                    unseen[inp.name] = count
            else:
                flags = check_booleans(inp, values, problems)
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
        times = None
        if times_raw is not None and self.time_column is not None:
            times = parse_times(self.time_column, times_raw, problems)
        if ids is not None and self.id_column is not None:
            ids = check_strings(self.id_column, ids, problems, what="field")
        if problems:
            more = len(problems) - MAX_PROBLEMS
            msg = "; ".join(problems[:MAX_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
            raise SchemaError(msg, problems=problems)
        return Encoded(n, self, block=block, logged=logged, unseen=unseen, ids=ids, times=times)

    def feeds(self, block: Block) -> dict[str, np.ndarray]:
        """ONNX feeds of a (possibly concatenated) block."""
        return feeds_of(self.block_names, block)

    def ort_types(self) -> dict[str, str] | None:
        """The ONNX input types (None: the predictor derives them from the bundle's schema)."""
        return None

    warm_feeds = None  # the predictor warms up with feeds from the bundle's schema

    def input_metadata(self) -> list[dict[str, Any]]:
        """The OIP model-metadata inputs: one [N, 1] tensor per feature."""
        return [{"name": n, "datatype": _DTYPES[k], "shape": [-1, 1]} for n, k in self.kinds.items()]

    def parameters_metadata(self) -> dict[str, Any]:
        """Request parameters and layout notes (none for feature rows)."""
        return {}
