"""The prediction-log writer: every answered prediction, written to Parquet by a background thread.

The request path turns its rows into CSV lines with orjson (a few µs, no Arrow, no I/O; see
:class:`LogStream`) and appends them to a deque. The writer thread wakes every ``flush_interval_s`` (or
sooner when a lot has queued), parses each group of lines with Arrow's CSV reader and writes Parquet —
both run in C++ without the GIL, so the writer barely competes with the event loop (a Python-heavy
writer thread stalls the loop for whole scheduler slices on a busy machine). Files go to the layout of
:mod:`shopml.logstore.layout`, written under a temporary name and renamed. Beyond
``max_backlog_rows`` queued rows new records are dropped and counted, never silently; the backlog is a
gauge. :meth:`close` drains everything.

:func:`write_predictions` writes a whole table in the same layout, for replays, tests and demos that
produce a log without the server.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from shopml.config import Workspace
from shopml.errors import DataError
from shopml.logstore.layout import LOG_COLUMNS, partition_dir, write_part
from shopml.logstore.stream import LogStream

__all__ = ["LogMetrics", "LogWriter", "write_predictions"]

log = logging.getLogger(__name__)


class _Counter(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class _Gauge(Protocol):
    def set(self, value: float) -> None: ...


class LogMetrics(Protocol):
    """Where the writer counts what it did (the server's Prometheus metrics have these)."""

    @property
    def log_backlog(self) -> _Gauge: ...
    @property
    def log_written(self) -> _Counter: ...
    @property
    def log_dropped(self) -> _Counter: ...
    @property
    def log_errors(self) -> _Counter: ...


#: A queued group of lines: (stream, day number since the epoch, rows, JSON lines). A plain tuple: the
#: request path builds one per answer.
_Entry = tuple[LogStream, int, int, bytes]
_STREAM, _DAY, _ROWS, _DATA = (itemgetter(i) for i in range(4))


class LogWriter:
    """Background Parquet writer under ``root`` (the workspace's ``logs/predictions``)."""

    def __init__(
        self,
        root: os.PathLike[str] | str,
        metrics: LogMetrics,
        *,
        flush_interval_s: float = 1.0,
        max_backlog_rows: int = 1_000_000,
    ) -> None:
        self.root = os.fspath(root)
        self.metrics = metrics
        self.flush_interval_s = flush_interval_s
        self.max_backlog_rows = max_backlog_rows
        self._queue: deque[_Entry] = deque()
        self._appended = 0  # written only by the request thread
        self._done = 0  # written only by the writer (rows written or failed after queueing)
        self._dropped_full = 0  # request thread: backlog over the limit
        self._dropped_failed = 0  # writer thread: a file could not be written
        self.written = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> LogWriter:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shopml-prediction-log", daemon=True)
            self._thread.start()
        return self

    def append(self, stream: LogStream, ts: float, rows: int, data: bytes) -> None:
        """Queue ``rows`` JSON lines answered at ``ts`` (request path: no lock, no I/O)."""
        backlog = self._appended - self._done
        if backlog + rows > self.max_backlog_rows:
            self._dropped_full += rows
            self.metrics.log_dropped.inc(rows)
            return
        self._appended += rows
        self._queue.append((stream, int(ts // 86400), rows, data))
        if backlog >= 50_000:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows answered but not yet written (published as a gauge by :meth:`publish`)."""
        return self._appended - self._done

    @property
    def dropped(self) -> int:
        """Rows that will never be on disk (backlog limit or write failure), also a counter metric."""
        return self._dropped_full + self._dropped_failed

    def publish(self) -> None:
        """Set the backlog gauge (the server calls this periodically from its event loop)."""
        self.metrics.log_backlog.set(self.backlog)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            self.flush()
        self.flush()

    def flush(self) -> int:
        """Write everything queued now, one file per model, day and version; returns rows handled."""
        queue = self._queue
        # Python work here holds the GIL the event loop needs (for up to a switch interval, 5 ms, at a
        # time): the usual single group is taken with C-level calls, not a loop over the entries.
        taken = [queue.popleft() for _ in range(len(queue))]
        if not taken:
            return 0
        if len(set(map(id, map(_STREAM, taken)))) == 1 and len(set(map(_DAY, taken))) == 1:
            groups: Iterable[list[_Entry]] = [taken]
        else:
            by_key: dict[tuple[int, int], list[_Entry]] = defaultdict(list)
            for e in taken:
                by_key[(id(e[0]), e[1])].append(e)
            groups = by_key.values()
        total = 0
        for entries in groups:
            stream, day = entries[0][0], entries[0][1]
            rows = sum(map(_ROWS, entries))
            try:
                self._write(stream, day, b"".join(map(_DATA, entries)))
                self.written += rows
                self.metrics.log_written.inc(rows)
            except Exception:  # disk full, permissions: count, keep serving
                log.exception("prediction log: writing %d rows for model %s failed", rows, stream.model)
                self.metrics.log_errors.inc()
                self._dropped_failed += rows
                self.metrics.log_dropped.inc(rows)
            self._done += rows
            total += rows
        return total

    def _write(self, stream: LogStream, day: int, data: bytes) -> None:
        date = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        write_part(partition_dir(self.root, stream.model, date), stream.table(data))

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread after writing everything queued (graceful shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        deadline = time.monotonic() + timeout
        while self._queue and time.monotonic() < deadline:
            self.flush()


def write_predictions(workspace: Workspace | Path | str, model: str, table: pa.Table) -> list[Path]:
    """Write rows in the contract-5 layout (one part per ``ts`` day): for replays, tests and demos
    that produce a log without the server."""
    missing = [c for c in LOG_COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"prediction rows lack column(s) {missing} (contract 5 needs {list(LOG_COLUMNS)})")
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    days = pc.strftime(table.column("ts"), format="%Y-%m-%d")
    paths = []
    for day in sorted(pc.unique(days).to_pylist()):
        part = table.filter(pc.equal(days, day))
        paths.append(write_part(partition_dir(ws.predictions_dir, model, day), part))
    return paths
