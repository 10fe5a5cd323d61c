"""Delayed labels: validate and store a label file, join labels back to logged predictions.

Stored per contract 5 (:mod:`shopml.logstore.layout`), one part file per ingest, with the key column
(``request_id`` or the model's business key, e.g. ``transaction_id``), the label column (the model's
target) and ``label_available_at`` (when the label became known; missing → the ingest time). A label
counts for a window only once ``label_available_at <= as_of``; when a key has several labels (a
correction), the latest available one wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from shopml.config import Workspace
from shopml.errors import DataError, SchemaError
from shopml.logstore.layout import TIMESTAMP, model_dir, write_part
from shopml.logstore.reader import PredictionLog, as_utc, quote
from shopml.schema import read_table

if TYPE_CHECKING:
    from shopml.kinds import ModelKind

__all__ = ["AVAILABLE_AT", "REQUEST_ID", "LabelIngestResult", "LabelStore", "ingest_labels"]

REQUEST_ID = "request_id"
AVAILABLE_AT = "label_available_at"
#: The SQL type labels are read as, per model-kind label type.
LABEL_TYPES = {"int8": "TINYINT", "string": "VARCHAR", "float64": "DOUBLE"}


@dataclass(frozen=True)
class LabelIngestResult:
    """What an ingest stored and how many labels found their prediction."""

    model: str
    path: Path
    rows: int
    key_column: str
    label_column: str
    positives: int
    matched: int

    @property
    def unmatched(self) -> int:
        """Labels whose key is not (yet) in the prediction log."""
        return self.rows - self.matched


def _key_column(table: pa.Table, id_column: str | None, source: str) -> str:
    if REQUEST_ID in table.column_names:
        return REQUEST_ID
    if id_column and id_column in table.column_names:
        return id_column
    wanted = f"'{REQUEST_ID}'" + (f" or the business key '{id_column}'" if id_column else "")
    raise SchemaError(f"label file {source}: no key column: expected {wanted}, got {table.column_names}")


def _labels(col: pa.ChunkedArray, name: str, source: str) -> pa.Array:
    if col.null_count:
        raise DataError(f"label file {source}: column '{name}' has {col.null_count} missing label(s)")
    try:
        values = col.cast(pa.int8()).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(f"label file {source}: column '{name}' must hold 0/1 labels, got {col.type}") from exc
    bad = pc.filter(values, pc.invert(pc.is_in(values, pa.array([0, 1], pa.int8()))))
    if len(bad):
        raise DataError(f"label file {source}: column '{name}' must be 0 or 1, got {bad[0].as_py()!r}")
    return values


def _kind_labels(
    col: pa.ChunkedArray, name: str, source: str, kind: ModelKind, meta: Mapping[str, Any]
) -> pa.Array:
    """Labels of a kind other than binary, checked by the kind and stored as its label type; nulls only
    where the kind gives them a meaning (:attr:`shopml.kinds.LabelSpec.null_means`)."""
    if col.null_count and kind.label.null_means is None:
        raise DataError(f"label file {source}: column '{name}' has {col.null_count} missing label(s)")
    given = [v for v in col.to_pylist() if v is not None]
    kind.check_labels(given, meta, field=f"label file {source}: column '{name}'")
    arrow_type = pa.string() if kind.label.dtype == "string" else pa.float64()
    return col.cast(arrow_type).combine_chunks()


def _available_at(table: pa.Table, now: datetime, source: str) -> pa.Array:
    n = table.num_rows
    if AVAILABLE_AT not in table.column_names:
        return pa.array([now] * n, TIMESTAMP)
    col = table.column(AVAILABLE_AT)
    try:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            try:
                col = col.cast(TIMESTAMP)
            except pa.ArrowInvalid:  # no offset given: the times are UTC
                col = pc.assume_timezone(col.cast(pa.timestamp("us")), "UTC")
        elif pa.types.is_timestamp(col.type) and col.type.tz is None:
            col = pc.assume_timezone(col, "UTC")
        col = col.cast(TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataError(
            f"label file {source}: column '{AVAILABLE_AT}' must be a UTC timestamp "
            f"(ISO like 2026-01-31T00:00:00+00:00), got {table.column(AVAILABLE_AT).type}: {exc}"
        ) from exc
    return pc.fill_null(col, pa.scalar(now, TIMESTAMP)).combine_chunks()


def _unlabelled(base: str, label_type: str = "TINYINT") -> str:
    nulls = f"CAST(NULL AS {label_type}) AS label, CAST(NULL AS TIMESTAMPTZ) AS {AVAILABLE_AT}"
    return f"SELECT p.*, {nulls} FROM ({base}) p"


class LabelStore:
    """The labels of one model in a workspace; ``label_dtype`` is the model kind's label type
    (:attr:`shopml.kinds.LabelSpec.dtype`: ``int8`` 0/1, ``string`` class names, ``float64`` values)."""

    def __init__(self, workspace: Workspace | Path | str, model: str, label_dtype: str = "int8") -> None:
        ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
        if label_dtype not in LABEL_TYPES:
            raise DataError(f"label type '{label_dtype}' is not one of {sorted(LABEL_TYPES)}")
        self.label_type = LABEL_TYPES[label_dtype]
        self.model = model
        self.root = model_dir(ws.labels_dir, model)
        self._prepared: tuple[tuple[object, ...], list[str]] | None = None

    @property
    def files(self) -> list[Path]:
        """Stored label files, sorted by name."""
        return sorted(self.root.glob("*.parquet")) if self.root.is_dir() else []

    def source(self) -> str | None:
        """DuckDB table expression over all label files (``None`` when there are none)."""
        if not self.files:
            return None
        glob = str(self.root / "*.parquet").replace("'", "''")
        return f"read_parquet('{glob}', union_by_name=true, filename=true)"

    def write(self, table: pa.Table) -> Path:
        """Store one validated label table as a new part file."""
        return write_part(self.root, table)  # readers never see a half-written part

    def _prepare(self, log: PredictionLog, label: str, id_column: str | None, as_of: datetime) -> list[str]:
        """Materialise the labels known at ``as_of`` (latest per key) as temp tables in the log's
        connection, once per (connection, label, key, as_of); returns the join keys."""
        cache_key = (id(log.con), label, id_column, as_utc(as_of))
        if self._prepared is not None and self._prepared[0] == cache_key:
            return self._prepared[1]
        src = self.source()
        keys: list[str] = []
        if src is not None:
            con = log.con
            label_cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
            if label not in label_cols:
                raise DataError(f"stored labels of model '{self.model}' lack the label column '{label}'")
            keys = [k for k in (REQUEST_ID, id_column) if k and k in label_cols and k in log.columns]
            for i, key in enumerate(keys):
                k = quote(key)
                con.execute(
                    f"CREATE OR REPLACE TEMP TABLE _labels_{i} AS "
                    f"SELECT CAST({k} AS VARCHAR) AS k, CAST({quote(label)} AS {self.label_type}) AS y, "
                    f"{AVAILABLE_AT} AS at FROM {src} WHERE {k} IS NOT NULL AND {AVAILABLE_AT} <= $as_of "
                    f"QUALIFY row_number() OVER (PARTITION BY {k} "
                    f"ORDER BY {AVAILABLE_AT} DESC, filename DESC) = 1",
                    {"as_of": as_utc(as_of)},
                )
        self._prepared = (cache_key, keys)
        return keys

    def join_sql(self, log: PredictionLog, keys: list[str], columns: list[str]) -> str:
        """SQL selecting a window of predictions (``$start``/``$end``, ``__time`` and ``columns``) with
        ``label`` (NULL when not known yet) and ``label_available_at``, joined on ``keys``."""
        if not keys:
            return _unlabelled(log.window_sql(["__time", *columns]), self.label_type)
        extra = [k for k in keys if k not in columns]
        base = log.window_sql(["__time", *columns, *extra])
        joins = " ".join(
            f"LEFT JOIN _labels_{i} l{i} ON CAST(p.{quote(k)} AS VARCHAR) = l{i}.k"
            for i, k in enumerate(keys)
        )
        lab = ", ".join(f"l{i}.y" for i in range(len(keys)))
        at = ", ".join(f"l{i}.at" for i in range(len(keys)))
        keep = ", ".join(f"p.{quote(c)}" for c in ["__time", *columns])
        return (
            f"SELECT {keep}, coalesce({lab}) AS label, coalesce({at}) AS {AVAILABLE_AT} "
            f"FROM ({base}) p {joins}"
        )

    def labelled(
        self,
        log: PredictionLog,
        label: str,
        id_column: str | None,
        start: datetime,
        end: datetime,
        as_of: datetime,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """The window's predictions (``__time``, ``columns``) with ``label`` and ``label_available_at``,
        ordered by time. Labels are matched on ``request_id`` first, then on the business key."""
        cols = columns if columns is not None else ["score", "decision", "threshold"]
        keys = self._prepare(log, label, id_column, as_of)
        sql = self.join_sql(log, keys, cols) + " ORDER BY __time"
        params = {"start": as_utc(start), "end": as_utc(end)}
        return log.con.sql(sql, params=params).to_arrow_table()

    def materialise(
        self,
        log: PredictionLog,
        label: str,
        id_column: str | None,
        start: datetime,
        end: datetime,
        as_of: datetime,
        columns: list[str] | None = None,
    ) -> str:
        """Join ``[start, end)`` once into a time-ordered temp table (DuckDB spills it to disk beyond its
        memory limit) and return its name; read windows from it with :meth:`window`."""
        cols = columns if columns is not None else ["score", "decision", "threshold"]
        keys = self._prepare(log, label, id_column, as_of)
        sql = self.join_sql(log, keys, cols)
        params = {"start": as_utc(start), "end": as_utc(end)}
        log.con.execute(f"CREATE OR REPLACE TEMP TABLE _labelled AS {sql} ORDER BY __time", params)
        return "_labelled"

    @staticmethod
    def window(log: PredictionLog, table: str, start: datetime, end: datetime) -> pa.Table:
        """Rows of a materialised table with ``start <= __time < end``."""
        order = ", ".join(quote(c) for c in log.con.sql(f"SELECT * FROM {table} LIMIT 0").columns)
        # every column: rows sharing a time come back in one order, so a window's arrays are reproducible
        sql = f"SELECT * FROM {table} WHERE __time >= $start AND __time < $end ORDER BY {order}"
        return log.con.sql(sql, params={"start": as_utc(start), "end": as_utc(end)}).to_arrow_table()


def ingest_labels(
    workspace: Workspace | Path | str,
    model: str,
    source: str | Path | pa.Table,
    *,
    label_column: str,
    id_column: str | None = None,
    now: datetime | None = None,
    kind: ModelKind | None = None,
    meta: Mapping[str, Any] | None = None,
) -> LabelIngestResult:
    """Validate a label file (Parquet/CSV) or table, store it and count labels matching predictions.

    The key is ``request_id`` when the file has it, else ``id_column`` (the model's business key).
    ``kind`` (default binary: 0/1) checks the labels (:meth:`shopml.kinds.ModelKind.check_labels`, with
    ``meta``, the model's ``bundle.json``: a multiclass model's class names) and gives their stored type.
    """
    name = str(source) if not isinstance(source, pa.Table) else "<table>"
    table = read_table(source)
    if table.num_rows == 0:
        raise DataError(f"label file {name} holds no rows")
    if label_column not in table.column_names:
        raise SchemaError(
            f"label file {name}: no label column '{label_column}' (the model's target); "
            f"got {table.column_names}"
        )
    key = _key_column(table, id_column, name)
    keys = table.column(key)
    if keys.null_count:
        raise DataError(f"label file {name}: key column '{key}' has {keys.null_count} missing value(s)")
    keys = keys.cast(pa.string()).combine_chunks()
    if pc.count_distinct(keys).as_py() != len(keys):
        raise DataError(f"label file {name}: key column '{key}' has duplicate values; one label per key")
    when = as_utc(now) if now is not None else datetime.now(UTC)
    dtype = kind.label.dtype if kind is not None else "int8"
    if kind is None or dtype == "int8":
        labels = _labels(table.column(label_column), label_column, name)
        positives = int(pc.sum(labels).as_py() or 0)
    else:
        labels = _kind_labels(table.column(label_column), label_column, name, kind, meta or {})
        positives = 0
    stored = pa.table({key: keys, label_column: labels, AVAILABLE_AT: _available_at(table, when, name)})
    store = LabelStore(workspace, model, dtype)
    path = store.write(stored)
    log = PredictionLog(workspace, model)
    matched = 0
    if log.exists and key in log.columns:
        con: duckdb.DuckDBPyConnection = log.con
        con.register("_new_labels", stored)
        sql = (
            f"SELECT count(*) FROM _new_labels WHERE {quote(key)} IN "
            f"(SELECT CAST({quote(key)} AS VARCHAR) FROM {log.source()})"
        )
        matched = int(con.execute(sql).fetchall()[0][0])
        con.unregister("_new_labels")
    return LabelIngestResult(
        model=model,
        path=path,
        rows=stored.num_rows,
        key_column=key,
        label_column=label_column,
        positives=positives,
        matched=matched,
    )
