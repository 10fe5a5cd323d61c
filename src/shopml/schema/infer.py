"""Read tables (Parquet or CSV, file or folder) and infer a schema from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from shopml.errors import DataError
from shopml.schema.model import FeatureKind, FeatureSpec, Schema

__all__ = ["infer_schema", "read_table"]

MAX_CATEGORIES = 200
TEXT_MEAN_LENGTH = 40


def read_table(source: str | Path | pa.Table, columns: list[str] | None = None) -> pa.Table:
    """Read a Parquet or CSV file, or a folder of them (hive partitions kept as columns)."""
    if isinstance(source, pa.Table):
        return source.select(columns) if columns else source
    path = Path(source)
    if not path.exists():
        raise DataError(f"data file or folder {path} does not exist")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in {".parquet", ".csv"})
        if not files:
            raise DataError(f"folder {path} holds no .parquet or .csv files")
        fmt = "csv" if files[0].suffix == ".csv" else "parquet"
    elif path.suffix in {".parquet", ".pq"}:
        fmt = "parquet"
    elif path.suffix == ".csv":
        fmt = "csv"
    else:
        raise DataError(f"{path}: expected a .parquet or .csv file or a folder of them")
    try:
        import pyarrow.dataset as ds  # here only: it imports pandas when installed (~0.5 s)

        dataset = ds.dataset(path, format=fmt, partitioning="hive")
        return dataset.to_table(columns=columns)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as {fmt}: {exc}") from exc


def _is_id_name(name: str) -> bool:
    n = name.lower()
    return n == "id" or n.endswith("_id") or (n.endswith("id") and n[:-2].endswith("_"))


def _infer_column(name: str, col: pa.ChunkedArray, target: str | None) -> FeatureSpec:
    t = col.type
    nullable = col.null_count > 0
    if name == target:
        return FeatureSpec(name=name, kind=FeatureKind.TARGET, nullable=nullable)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return FeatureSpec(name=name, kind=FeatureKind.TIMESTAMP, nullable=nullable)
    if pa.types.is_boolean(t):
        return FeatureSpec(name=name, kind=FeatureKind.BOOLEAN, nullable=nullable)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        if _is_id_name(name) and pa.types.is_integer(t):
            return FeatureSpec(name=name, kind=FeatureKind.ID, nullable=nullable)
        allow_nan = False
        if pa.types.is_floating(t) and len(col) > 0:
            allow_nan = bool(pc.any(pc.is_nan(col)).as_py() or False)
        return FeatureSpec(name=name, kind=FeatureKind.NUMERIC, nullable=nullable, allow_nan=allow_nan)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        values = col.cast(pa.string()) if pa.types.is_dictionary(t) else col
        n = len(values) - values.null_count
        distinct = pc.unique(values.drop_null()) if n else pa.array([], pa.string())
        if _is_id_name(name) or (n > 50 and len(distinct) > 0.9 * n):
            return FeatureSpec(name=name, kind=FeatureKind.ID, nullable=nullable)
        mean_len = pc.mean(pc.utf8_length(values)).as_py() if n else 0
        if (mean_len or 0) > TEXT_MEAN_LENGTH or len(distinct) > MAX_CATEGORIES:
            return FeatureSpec(name=name, kind=FeatureKind.TEXT, nullable=nullable)
        cats = tuple(sorted(str(v) for v in distinct.to_pylist()))
        return FeatureSpec(name=name, kind=FeatureKind.CATEGORICAL, nullable=nullable, categories=cats)
    raise DataError(f"column '{name}': unsupported Arrow type {t}")


def infer_schema(
    source: str | Path | pa.Table,
    target: str | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> Schema:
    """Infer a schema from a table or file; ``overrides`` (e.g. from YAML) win over inference.

    >>> t = pa.table({"order_id": [1, 2], "amount": [9.5, 12.0], "country": ["DE", "FR"],
    ...               "is_fraud": [0, 1]})
    >>> [(f.name, f.kind.value) for f in infer_schema(t, target="is_fraud").features]
    [('order_id', 'id'), ('amount', 'numeric'), ('country', 'categorical'), ('is_fraud', 'target')]
    """
    table = read_table(source)
    if target is not None and target not in table.column_names:
        raise DataError(f"target column '{target}' is not in the data (columns: {table.column_names})")
    specs = [_infer_column(n, table.column(n), target) for n in table.column_names]
    schema = Schema(features=tuple(specs))
    return schema.with_overrides(overrides) if overrides else schema
