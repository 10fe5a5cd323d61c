"""Turn whatever :func:`~shopml.monitor.compare` is given into profiles, in bounded memory.

A side is a stored :class:`Profile`, an Arrow table, or a Parquet/CSV file or folder. Files are streamed
in batches through a pyarrow dataset, each batch sketched and merged into one profile, so memory stays
bounded by the batch size whatever the window's size. Small inputs (up to ``exact_max_rows`` rows) also
keep their raw numeric values so that exact tests can run on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.dataset as ds
from rich.progress import Progress

from shopml.errors import DataError, SchemaError
from shopml.profile.reference import SCORE_COLUMN, Profile, build_profile, numeric_column
from shopml.schema import FeatureKind, Schema, infer_schema

__all__ = ["Side", "Source", "load_side", "resolve_schema"]

Source: TypeAlias = Profile | pa.Table | str | Path
FloatArray = npt.NDArray[np.float64]
DRIFT_KINDS = (FeatureKind.NUMERIC, FeatureKind.CATEGORICAL, FeatureKind.BOOLEAN)


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its profile, raw values when small, and the columns it had."""

    profile: Profile
    values: dict[str, FloatArray] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def _dataset(path: Path) -> ds.Dataset:
    if not path.exists():
        raise DataError(f"data file or folder {path} does not exist")
    files = (
        sorted(p for p in path.rglob("*") if p.suffix in {".parquet", ".csv"}) if path.is_dir() else [path]
    )
    if not files:
        raise DataError(f"folder {path} holds no .parquet or .csv files")
    fmt = "csv" if files[0].suffix == ".csv" else "parquet"
    if files[0].suffix not in {".parquet", ".csv", ".pq"}:
        raise DataError(f"{path}: expected a .parquet or .csv file, a folder of them, or a profile .json")
    try:
        if path.is_dir():
            files = [f for f in files if f.suffix == files[0].suffix]
            hive = ds.partitioning(flavor="hive")
            return ds.dataset(
                [str(f) for f in files], format=fmt, partitioning=hive, partition_base_dir=str(path)
            )
        return ds.dataset(path, format=fmt)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as {fmt}: {exc}") from exc


def _as_source(source: Source) -> Source:
    if isinstance(source, str | Path) and Path(source).suffix == ".json":
        return Profile.load(source)
    return source


def resolve_schema(reference: Source, schema: Schema | None, batch_rows: int) -> Schema:
    """The schema to compare under: given, the profile's, or inferred from (the head of) the reference."""
    reference = _as_source(reference)
    if schema is None:
        if isinstance(reference, Profile):
            schema = reference.schema
        elif isinstance(reference, pa.Table):
            schema = infer_schema(reference)
        else:
            head = _dataset(Path(reference)).head(min(batch_rows, 100_000))
            schema = infer_schema(head)
    feats = tuple(f for f in schema.features if f.kind in DRIFT_KINDS and f.name != SCORE_COLUMN)
    return Schema(features=feats)


def load_side(
    source: Source,
    schema: Schema,
    exact_max_rows: int,
    batch_rows: int,
    sample: int,
    seed: int,
    progress: bool = False,
) -> Side:
    """Profile ``source`` under ``schema``; features it lacks are listed in ``missing``, not fatal."""
    source = _as_source(source)
    if isinstance(source, Profile):
        present = [f for f in schema.features if f.name in source.features]
        values: dict[str, FloatArray] = {}
        if source.sample_is_complete and source.sample is not None:
            values = _values(source.sample, Schema(features=tuple(present)))
        missing = tuple(f.name for f in schema.features if f.name not in source.features)
        return Side(source, values, tuple(source.features), missing)
    if isinstance(source, pa.Table):
        return _from_table(source, schema, exact_max_rows, sample, seed)
    path = Path(source)
    dataset = _dataset(path)
    try:
        return _stream(dataset, schema, exact_max_rows, batch_rows, sample, seed, progress)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc


def _stream(
    dataset: ds.Dataset,
    schema: Schema,
    exact_max_rows: int,
    batch_rows: int,
    sample: int,
    seed: int,
    progress: bool,
) -> Side:
    names = dataset.schema.names
    rows = dataset.count_rows()
    if rows <= exact_max_rows:
        return _from_table(dataset.to_table(), schema, exact_max_rows, sample, seed)
    sub = _present(schema, names)
    wanted = [*sub.names, *([SCORE_COLUMN] if SCORE_COLUMN in names else [])]
    merged: Profile | None = None
    seeds = np.random.SeedSequence(seed)
    batches = dataset.to_batches(
        columns=wanted, batch_size=batch_rows, batch_readahead=1, fragment_readahead=1
    )
    with Progress(*Progress.get_default_columns(), disable=not progress, transient=True) as bar:
        task = bar.add_task(f"profiling {rows:,} rows", total=rows)
        for batch in batches:
            part = build_profile(
                pa.Table.from_batches([batch]), sub, sample_size=sample, seed=seeds.spawn(1)[0]
            )
            merged = part if merged is None else merged.merge(part)
            bar.advance(task, batch.num_rows)
    if merged is None:
        merged = build_profile(dataset.schema.empty_table(), sub, sample_size=sample, seed=seed)
    return Side(merged, {}, tuple(names), _missing(schema, names))


def _present(schema: Schema, names: list[str]) -> Schema:
    return Schema(features=tuple(f for f in schema.features if f.name in names))


def _missing(schema: Schema, names: list[str]) -> tuple[str, ...]:
    return tuple(f.name for f in schema.features if f.name not in names)


def _from_table(table: pa.Table, schema: Schema, exact_max_rows: int, sample: int, seed: int) -> Side:
    sub = _present(schema, table.column_names)
    try:
        profile = build_profile(table, sub, sample_size=sample, seed=seed)
    except pa.ArrowInvalid as exc:
        raise SchemaError(f"cannot profile the table under the reference schema: {exc}") from exc
    values = _values(table, sub) if table.num_rows <= exact_max_rows else {}
    return Side(profile, values, tuple(table.column_names), _missing(schema, table.column_names))


def _values(table: pa.Table, schema: Schema) -> dict[str, FloatArray]:
    out = {}
    for spec in schema.of_kind(FeatureKind.NUMERIC):
        col, _ = numeric_column(table.column(spec.name), spec.name)
        x = col.drop_null().to_numpy().astype(np.float64)
        out[spec.name] = x[np.isfinite(x)]
    return out
