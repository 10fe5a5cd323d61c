"""Turn whatever :func:`~shopml.monitor.compare` is given into profiles, in bounded memory.

A side is a stored :class:`Profile`, an Arrow table, or a Parquet/CSV file or folder. Files are streamed
in batches, each batch sketched and merged into one profile, so memory stays bounded by the batch size
whatever the window's size. Small inputs (up to ``exact_max_rows`` rows) also keep their raw numeric
values so that exact tests can run on them.

A single Parquet file is read with the Parquet reader itself, only the compared columns, categorical
strings as dictionaries (counted on their codes, never materialised as Python or Arrow strings), and
a row group that fits in a batch one column at a time, sketched and sampled before the next is decoded:
on 1M rows × 25 columns this is about half the CPU of the dataset path (which also costs ~0.5 s to
import: ``pyarrow.dataset`` loads pandas when installed), and a third of the memory of decoding the
row group whole (fresh memory is costly to fault in on a virtual machine: a second of system time).
Folders and CSV go through a pyarrow dataset.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from shopml.errors import DataError, SchemaError
from shopml.profile.reference import (
    SCORE_COLUMN,
    Columns,
    Profile,
    build_profile,
    float_values,
    numeric_column,
)
from shopml.schema import FeatureKind, Schema, infer_schema

if TYPE_CHECKING:
    import pyarrow.dataset as ds

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


def _parquet_file(path: Path) -> bool:
    return path.is_file() and path.suffix in {".parquet", ".pq"}


def _dataset(path: Path) -> ds.Dataset:
    import pyarrow.dataset as ds

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
            schema = infer_schema(_head(Path(reference), min(batch_rows, 100_000)))
    feats = tuple(f for f in schema.features if f.kind in DRIFT_KINDS and f.name != SCORE_COLUMN)
    return Schema(features=feats)


def _head(path: Path, rows: int) -> pa.Table:
    """The first ``rows`` rows (decoding only those, not a whole row group, from a Parquet file)."""
    if not _parquet_file(path):
        return _dataset(path).head(rows)
    try:
        # a buffered stream reads the head's pages only (pre-buffering would read whole column chunks)
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        batch = next(pf.iter_batches(batch_size=rows), None)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as parquet: {exc}") from exc
    return pf.schema_arrow.empty_table() if batch is None else pa.Table.from_batches([batch])


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
    if not path.exists():
        raise DataError(f"data file or folder {path} does not exist")
    try:
        if _parquet_file(path):
            return _stream_parquet(path, schema, exact_max_rows, batch_rows, sample, seed, progress)
        return _stream(_dataset(path), schema, exact_max_rows, batch_rows, sample, seed, progress)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc


def _stream_parquet(
    path: Path, schema: Schema, exact_max_rows: int, batch_rows: int, sample: int, seed: int, progress: bool
) -> Side:
    arrow = pq.read_schema(path)
    names, rows = arrow.names, pq.read_metadata(path).num_rows
    if rows <= exact_max_rows:
        return _from_table(pq.read_table(path), schema, exact_max_rows, sample, seed)
    sub = _present(schema, names)
    text = [
        f.name
        for f in sub.of_kind(FeatureKind.CATEGORICAL)
        if pa.types.is_string(arrow.field(f.name).type) or pa.types.is_large_string(arrow.field(f.name).type)
    ]
    pf = pq.ParquetFile(path, read_dictionary=text)
    columns = _wanted(sub, names)

    def parts() -> Iterator[Columns]:
        # a row group that fits in one batch is decoded column by column (one column in memory at a
        # time: on 1M rows x 25 columns that is 8 MB instead of 200 MB of fresh pages to fault in);
        # larger ones are cut into batches as the dataset path cuts them (same parts, same samples)
        for group in range(pf.num_row_groups):
            if pf.metadata.row_group(group).num_rows <= batch_rows:
                yield _RowGroup(pf, group, columns)
            else:
                yield from pf.iter_batches(batch_size=batch_rows, row_groups=[group], columns=columns)

    return _profile_batches(parts(), rows, arrow, sub, schema, sample, seed, progress)


@dataclass(frozen=True)
class _RowGroup:
    """One Parquet row group read a column at a time (:class:`~shopml.profile.reference.Columns`)."""

    file: pq.ParquetFile
    group: int
    column_names: list[str]

    @property
    def num_rows(self) -> int:
        return int(self.file.metadata.row_group(self.group).num_rows)

    def column(self, name: str) -> pa.ChunkedArray:
        return self.file.read_row_group(self.group, columns=[name], use_threads=False).column(0)


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
    batches = dataset.to_batches(
        columns=_wanted(sub, names), batch_size=batch_rows, batch_readahead=1, fragment_readahead=1
    )
    return _profile_batches(batches, rows, dataset.schema, sub, schema, sample, seed, progress)


def _wanted(sub: Schema, names: list[str]) -> list[str]:
    return [*sub.names, *([SCORE_COLUMN] if SCORE_COLUMN in names else [])]


def _profile_batches(
    batches: Iterator[pa.RecordBatch] | Iterator[Columns],
    rows: int,
    arrow: pa.Schema,
    sub: Schema,
    schema: Schema,
    sample: int,
    seed: int,
    progress: bool,
) -> Side:
    """Sketch each batch and merge the profiles (a progress bar when asked for)."""
    merged: Profile | None = None
    seeds = np.random.SeedSequence(seed)
    advance: Callable[[int], object] = lambda n: None  # noqa: E731
    with contextlib.ExitStack() as stack:
        if progress:
            from rich.progress import Progress

            bar = stack.enter_context(Progress(*Progress.get_default_columns(), transient=True))
            task = bar.add_task(f"profiling {rows:,} rows", total=rows)
            advance = functools.partial(bar.advance, task)
        for batch in batches:
            table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
            part = build_profile(table, sub, sample_size=sample, seed=seeds.spawn(1)[0])
            merged = part if merged is None else merged.merge(part)
            advance(batch.num_rows)
    if merged is None:
        merged = build_profile(arrow.empty_table(), sub, sample_size=sample, seed=seed)
    return Side(merged, {}, tuple(arrow.names), _missing(schema, arrow.names))


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
        x = float_values(col)
        out[spec.name] = x[np.isfinite(x)]
    return out
