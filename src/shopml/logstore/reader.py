"""Read the prediction log (contract 5) with DuckDB: windows by time, one model, bounded memory.

The files are laid out as :mod:`shopml.logstore.layout` says. Time is the
request's event time (the schema's time column, e.g. ``event_time``) when the request carried it, else
the prediction time ``ts``: a replayed simulation is monitored on simulated time, live traffic on wall
time. Windows are half-open, ``start <= time < end``. DuckDB streams the Parquet files, reads only the
columns asked for and runs with a memory limit, so a window of any size is read in batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from shopml.config import Workspace
from shopml.errors import DataError, NotFoundError
from shopml.logstore.layout import model_dir
from shopml.times import as_utc as _as_utc

__all__ = ["LogSpan", "PredictionLog", "as_utc", "connect", "quote"]

DEFAULT_MEMORY_LIMIT = "1GB"


def quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def connect(memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = 2) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection in UTC with bounded memory and threads."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{memory_limit}'; SET threads={int(threads)}; SET TimeZone='UTC'")
    return con


def as_utc(value: datetime | str, name: str = "time") -> datetime:
    """A timezone-aware UTC datetime from a datetime or ISO text (naive means UTC)."""
    return _as_utc(value, name, naive_is_utc=True)


@dataclass(frozen=True)
class LogSpan:
    """First and last logged time and the number of predictions."""

    start: datetime | None
    end: datetime | None
    rows: int


class PredictionLog:
    """One model's prediction log. ``time_column`` is the schema's event-time column, if any;
    ``version`` keeps only that model version's predictions (e.g. the champion's, not a shadow's)."""

    def __init__(
        self,
        workspace: Workspace | Path | str,
        model: str,
        time_column: str | None = None,
        con: duckdb.DuckDBPyConnection | None = None,
        version: int | None = None,
    ) -> None:
        ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
        self.model = model
        self.root = model_dir(ws.predictions_dir, model)
        self.time_column = time_column
        self.version = version
        self.con = con if con is not None else connect()
        self._columns: list[str] | None = None

    @property
    def exists(self) -> bool:
        """Whether any Parquet file has been logged for this model."""
        return self.root.is_dir() and any(self.root.rglob("*.parquet"))

    def source(self) -> str:
        """The DuckDB table expression over all of the model's files."""
        if not self.exists:
            raise NotFoundError(
                f"no prediction log for model '{self.model}': {self.root} holds no Parquet files"
            )
        glob = str(self.root / "**" / "*.parquet").replace("'", "''")
        return f"read_parquet('{glob}', hive_partitioning=false, union_by_name=true)"

    @property
    def columns(self) -> list[str]:
        """Column names across all files (union by name)."""
        if self._columns is None:
            rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.source()}").fetchall()
            self._columns = [r[0] for r in rows]
        return self._columns

    def time_expr(self) -> str:
        """SQL for the monitoring time of a row (event time if logged, else prediction time)."""
        tc = self.time_column
        if tc and tc != "ts" and tc in self.columns:
            return f"coalesce(CAST({quote(tc)} AS TIMESTAMPTZ), ts)"
        return "ts"

    def require(self, *names: str) -> None:
        """Fail naming the columns the log lacks."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise DataError(
                f"prediction log of model '{self.model}' lacks column(s) {missing} (has {self.columns})"
            )

    def _version(self) -> str:
        return "TRUE" if self.version is None else f"model_version = {int(self.version)}"

    def span(self) -> LogSpan:
        """First/last monitoring time and row count over the whole log."""
        if not self.exists:
            return LogSpan(None, None, 0)
        t = self.time_expr()
        sql = f"SELECT min({t}), max({t}), count(*) FROM {self.source()} WHERE {self._version()}"
        lo, hi, n = self.con.execute(sql).fetchall()[0]
        return LogSpan(lo, hi, int(n))

    def window_sql(self, columns: list[str]) -> str:
        """SQL for a window's ``columns`` (``$start``/``$end`` parameters; ``"__time"``: monitoring time)."""
        self.require(*[c for c in columns if c != "__time"])
        cols = ", ".join(f"{self.time_expr()} AS __time" if c == "__time" else quote(c) for c in columns)
        t = self.time_expr()
        return f"SELECT {cols} FROM {self.source()} WHERE {t} >= $start AND {t} < $end AND {self._version()}"

    def batches(
        self, start: datetime, end: datetime, columns: list[str], batch_size: int = 100_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a window's rows as Arrow batches (``"__time"`` names the monitoring time)."""
        params = {"start": as_utc(start), "end": as_utc(end)}
        reader: pa.RecordBatchReader = self.con.sql(self.window_sql(columns), params=params).to_arrow_reader(
            batch_size
        )
        yield from reader

    def read(self, start: datetime, end: datetime, columns: list[str]) -> pa.Table:
        """A window's rows as one Arrow table (ask only for the columns you need)."""
        params = {"start": as_utc(start), "end": as_utc(end)}
        return self.con.sql(self.window_sql(columns), params=params).to_arrow_table()

    def count(self, start: datetime, end: datetime) -> int:
        """Number of predictions in a window."""
        t = self.time_expr()
        sql = f"SELECT count(*) FROM {self.source()} WHERE {t} >= $start AND {t} < $end AND {self._version()}"
        return int(self.con.execute(sql, {"start": as_utc(start), "end": as_utc(end)}).fetchall()[0][0])
