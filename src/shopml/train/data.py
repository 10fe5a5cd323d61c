"""Load a training table, check it, infer its schema and turn it into model-ready arrays."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import DataError, InsufficientDataError, SchemaError
from shopml.kinds import get_kind
from shopml.schema import FeatureKind, FeatureSpec, Schema, infer_schema, read_table, validate
from shopml.train.config import TrainConfig

__all__ = ["Dataset", "fingerprint", "load_dataset", "onnx_feeds", "to_frame"]


@dataclass
class Dataset:
    """A checked table, sorted by event time, with the arrays training needs."""

    table: pa.Table  # schema columns only (inputs, id, time, target), time-sorted
    schema: Schema  # inputs + id + time + target
    inputs: list[str]
    kinds: dict[str, FeatureKind]
    frame: (
        pd.DataFrame
    )  # model inputs: numeric/boolean float64 (NaN = missing), categorical str ("" = missing)
    y: np.ndarray  # labels as the kind's metrics take them (binary: int8 0/1)
    times: np.ndarray  # datetime64[us]
    label_times: np.ndarray | None  # datetime64[us] or None
    fn_costs: np.ndarray  # cost of missing each row if positive
    fingerprint: str
    weights: np.ndarray | None = None  # training weight per row (``weight_column``), else None
    target_meta: dict[str, Any] = field(default_factory=dict)  # what reads labels back (class names)

    def weights_at(self, rows: np.ndarray) -> np.ndarray | None:
        """The ``weight_column`` weights of ``rows`` (None without a weight column)."""
        return None if self.weights is None else self.weights[rows]

    @property
    def numeric(self) -> list[str]:
        """Numeric and boolean inputs (passed to the model as numbers)."""
        return [n for n in self.inputs if self.kinds[n] != FeatureKind.CATEGORICAL]

    @property
    def categorical(self) -> list[str]:
        """Categorical inputs (one-hot encoded)."""
        return [n for n in self.inputs if self.kinds[n] == FeatureKind.CATEGORICAL]


def to_frame(table: pa.Table, inputs: list[str], kinds: dict[str, FeatureKind]) -> pd.DataFrame:
    """Model inputs as a DataFrame: numbers and booleans as float64 (null → NaN), categories as strings
    (null → ``""``, which the encoder treats like any unseen category unless it was seen in training)."""
    cols: dict[str, Any] = {}
    for name in inputs:
        col = table.column(name)
        if kinds[name] == FeatureKind.CATEGORICAL:
            values = pc.fill_null(col.cast(pa.string()), "")
            cols[name] = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        else:
            cols[name] = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    return pd.DataFrame(cols)


def onnx_feeds(
    frame: pd.DataFrame, inputs: list[str], kinds: dict[str, FeatureKind]
) -> dict[str, np.ndarray]:
    """The ONNX model's inputs: one [N, 1] array per feature, float32 or string."""
    feeds: dict[str, np.ndarray] = {}
    for name in inputs:
        values = frame[name].to_numpy()
        if kinds[name] == FeatureKind.CATEGORICAL:
            feeds[name] = values.astype(object).reshape(-1, 1)
        else:
            feeds[name] = values.astype(np.float32).reshape(-1, 1)
    return feeds


def fingerprint(table: pa.Table) -> str:
    """SHA-256 of the table's content (Arrow IPC stream of its columns), for lineage."""
    digest = hashlib.sha256()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=65536)
    digest.update(memoryview(sink.getvalue()))
    return f"sha256:{digest.hexdigest()}"


def _require_columns(table: pa.Table, cfg: TrainConfig) -> None:
    named = {
        "target": cfg.target,
        "time_column": cfg.time_column,
        "id_column": cfg.id_column,
        "label_available_column": cfg.label_available_column,
        "costs.amount_column": cfg.costs.amount_column,
        "weight_column": cfg.weight_column,
    }
    for role, name in named.items():
        if name is not None and name not in table.column_names:
            raise DataError(f"{role} '{name}' is not a column of {cfg.table} (columns: {table.column_names})")
    missing = [f for f in cfg.features or [] if f not in table.column_names]
    if missing:
        raise DataError(f"features {missing} are not columns of {cfg.table} (columns: {table.column_names})")


def _times(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    if pa.types.is_string(col.type):
        try:
            col = pc.cast(col, pa.timestamp("us"))
        except pa.ArrowInvalid as exc:
            raise DataError(f"time column '{name}': cannot parse as timestamps: {exc}") from exc
    if not (pa.types.is_timestamp(col.type) or pa.types.is_date(col.type)):
        raise DataError(f"time column '{name}' must hold timestamps, got column type {col.type}")
    if col.null_count:
        raise DataError(f"time column '{name}' has {col.null_count} null values")
    if pa.types.is_timestamp(col.type) and col.type.tz is not None:
        col = col.cast(pa.timestamp(col.type.unit))
    return np.asarray(col.to_numpy(zero_copy_only=False)).astype("datetime64[us]")


def _select_inputs(schema: Schema, cfg: TrainConfig) -> list[str]:
    reserved = {
        cfg.target,
        cfg.time_column,
        cfg.id_column,
        cfg.label_available_column,
        cfg.weight_column,
        *cfg.drop_columns,
    }
    if cfg.features is not None:
        bad = [
            f
            for f in cfg.features
            if schema[f].kind not in (FeatureKind.NUMERIC, FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN)
        ]
        if bad:
            raise DataError(f"features {bad} are not numeric, categorical or boolean columns")
        return [f for f in cfg.features if f not in reserved]
    inputs = [f.name for f in schema.input_features if f.name not in reserved]
    if not inputs:
        raise DataError(f"{cfg.table}: no usable input columns (numeric, categorical or boolean)")
    return inputs


def _weights(table: pa.Table, cfg: TrainConfig) -> np.ndarray | None:
    """The ``weight_column`` as float64: finite, non-negative, not all zero."""
    if cfg.weight_column is None:
        return None
    col = table.column(cfg.weight_column)
    if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        raise DataError(f"weight_column '{cfg.weight_column}' must be numeric, got column type {col.type}")
    w = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(
            f"weight_column '{cfg.weight_column}': {int(bad.sum())} rows are null, negative or not finite "
            f"(first at row {int(np.flatnonzero(bad)[0])}); expected weights >= 0"
        )
    if not w.any():
        raise DataError(f"weight_column '{cfg.weight_column}' is zero in every row")
    return np.asarray(w, dtype=np.float64)


def _role_spec(spec: FeatureSpec, cfg: TrainConfig) -> FeatureSpec:
    """The id and time columns keep their roles whatever inference guessed."""
    if spec.name == cfg.id_column and spec.kind != FeatureKind.ID:
        return FeatureSpec(name=spec.name, kind=FeatureKind.ID, nullable=spec.nullable)
    if spec.name == cfg.time_column and spec.kind != FeatureKind.TIMESTAMP:
        return FeatureSpec(name=spec.name, kind=FeatureKind.TIMESTAMP, nullable=spec.nullable)
    return spec


def load_dataset(cfg: TrainConfig, table: pa.Table | None = None) -> Dataset:
    """Read ``cfg.table`` (or use ``table``), check the named columns, infer the schema and sort by time."""
    raw = table if table is not None else read_table(cfg.table)
    _require_columns(raw, cfg)
    if raw.num_rows == 0:
        raise InsufficientDataError(f"{cfg.table} holds no rows")
    times = _times(raw, cfg.time_column)
    order = np.argsort(times, kind="stable")
    raw = raw.take(pa.array(order))
    times = times[order]
    y, target_meta = get_kind(cfg.kind).target(raw.column(cfg.target), f"target '{cfg.target}'")
    full = infer_schema(
        raw.drop_columns([c for c in cfg.drop_columns if c in raw.column_names]),
        target=cfg.target,
        overrides=cfg.schema_overrides or None,
    )
    inputs = _select_inputs(full, cfg)
    keep = [n for n in full.names if n in {*inputs, cfg.id_column, cfg.time_column, cfg.target}]
    schema = Schema(features=tuple(_role_spec(full[n], cfg) for n in keep))
    kinds = {n: schema[n].kind for n in inputs}
    label_times = _times(raw, cfg.label_available_column) if cfg.label_available_column else None
    amounts = None
    if cfg.costs.amount_column:
        amounts = pc.cast(raw.column(cfg.costs.amount_column), pa.float64()).to_numpy(zero_copy_only=False)
    fn_costs = cfg.costs.miss_costs(raw.num_rows, amounts)
    selected = raw.select(keep)
    try:  # declared ranges, categories, nullability: the schema's own checks, as serving applies them
        validate(selected, schema, require_target=True, unseen="error")
    except SchemaError as exc:
        raise SchemaError(f"{cfg.table}: {exc.message}", problems=exc.problems) from None
    weights = _weights(raw, cfg)
    return Dataset(
        table=selected,
        schema=schema,
        inputs=inputs,
        kinds=kinds,
        frame=to_frame(selected, inputs, kinds),
        y=y,
        times=times,
        label_times=label_times,
        fn_costs=fn_costs,
        fingerprint=fingerprint(
            selected if weights is None else selected.append_column("__w", pa.array(weights))
        ),
        weights=weights,
        target_meta=target_meta,
    )
