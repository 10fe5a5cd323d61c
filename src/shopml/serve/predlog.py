"""The prediction log: every answered prediction, written to Parquet by a background thread.

The request path only appends one small record to a deque (thread-safe, no I/O, no Arrow). The writer
thread wakes every ``flush_interval_s`` (or sooner when a lot has queued), turns records into one Arrow
table per model and day, and writes ``model=NAME/date=YYYY-MM-DD/part-<uuid>.parquet`` atomically
(temporary name, then rename). Beyond ``max_backlog_rows`` queued rows new records are dropped and
counted, never silently; the backlog is a metric. :meth:`close` drains everything (graceful shutdown).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import defaultdict, deque
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shopml.serve.metrics import ServeMetrics

__all__ = ["LogRecord", "PredictionLog"]

log = logging.getLogger(__name__)
_TS = pa.timestamp("us", tz="UTC")
_KIND_TYPES = {"numeric": pa.float64(), "categorical": pa.string(), "boolean": pa.bool_()}


class LogRecord(NamedTuple):
    """One answered request (one or more rows); a tuple, cheap to make on the request path."""

    model: str
    version: int
    threshold: float
    ts: float
    latency_ms: float
    request_ids: list[str]
    scores: np.ndarray
    features: dict[str, list[Any]]
    kinds: dict[str, str]
    id_column: str | None
    ids: list[Any] | None
    time_column: str | None
    times: list[datetime | None] | None


class PredictionLog:
    """Background Parquet writer under ``root`` (the workspace's ``logs/predictions``)."""

    def __init__(
        self,
        root: Path,
        metrics: ServeMetrics,
        *,
        flush_interval_s: float = 1.0,
        max_backlog_rows: int = 1_000_000,
    ) -> None:
        self.root = Path(root)
        self.metrics = metrics
        self.flush_interval_s = flush_interval_s
        self.max_backlog_rows = max_backlog_rows
        self._queue: deque[LogRecord] = deque()
        self._appended = 0  # written only by the request thread
        self._done = 0  # written only by the writer (rows written or dropped after queueing)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self._dropped_full = 0  # request thread: backlog over the limit
        self._dropped_failed = 0  # writer thread: a file could not be written

    def start(self) -> PredictionLog:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shopml-prediction-log", daemon=True)
            self._thread.start()
        return self

    def append(self, record: LogRecord) -> None:
        """Queue a record (called on the request path; no lock, no I/O)."""
        n = len(record.request_ids)
        backlog = self._appended - self._done
        if backlog + n > self.max_backlog_rows:
            self._dropped_full += n
            self.metrics.log_dropped.inc(n)
            return
        self._appended += n
        self._queue.append(record)
        if backlog >= 50_000:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows answered but not yet written (also published as a gauge by :meth:`publish`)."""
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
        """Write everything queued now; returns rows written."""
        records: list[LogRecord] = []
        while self._queue:
            records.append(self._queue.popleft())
        if not records:
            return 0
        groups: dict[tuple[str, int, int], list[LogRecord]] = defaultdict(list)
        for rec in records:  # one file per model, day and version (versions may differ in inputs)
            groups[(rec.model, int(rec.ts // 86400), rec.version)].append(rec)
        total = 0
        for (model, day_index, _), recs in groups.items():
            day = datetime.fromtimestamp(day_index * 86400, UTC).strftime("%Y-%m-%d")
            rows = sum(len(r.request_ids) for r in recs)
            try:
                self._write(model, day, recs)
                self.written += rows
                self.metrics.log_written.inc(rows)
            except Exception:  # disk full, permissions: count, keep serving
                log.exception("prediction log: writing %d rows for model %s failed", rows, model)
                self.metrics.log_errors.inc()
                self._dropped_failed += rows
                self.metrics.log_dropped.inc(rows)
            self._done += rows
            total += rows
        return total

    def _write(self, model: str, day: str, recs: list[LogRecord]) -> None:
        first = recs[0]
        f = LogRecord(*zip(*recs, strict=True))  # transposed in C: one tuple per field
        rep = np.fromiter(map(len, f.request_ids), dtype=np.int64, count=len(recs))
        ts = np.repeat((np.array(f.ts) * 1e6).astype(np.int64), rep)
        score = np.concatenate(f.scores).astype(np.float64)
        thresholds = np.repeat(np.array(f.threshold, dtype=np.float64), rep)
        cols: dict[str, pa.Array] = {
            "request_id": pa.array(list(chain.from_iterable(f.request_ids)), pa.string()),
            "ts": pa.array(ts, pa.int64()).cast(_TS),
            "model": pa.array([model] * len(ts), pa.string()),
            "model_version": pa.array(np.repeat(np.array(f.version, dtype=np.int64), rep)),
            "score": pa.array(score),
            "decision": pa.array((score >= thresholds).astype(np.int8)),
            "threshold": pa.array(thresholds),
            "latency_ms": pa.array(np.repeat(np.array(f.latency_ms, dtype=np.float64), rep)),
        }
        for name, kind in first.kinds.items():
            values = list(chain.from_iterable(map(itemgetter(name), f.features)))
            cols[name] = pa.array(values, _KIND_TYPES[kind], from_pandas=True)  # NaN → null
        extras: tuple[tuple[str | None, Any, pa.DataType], ...] = (
            (first.id_column, f.ids, pa.string()),
            (first.time_column, f.times, _TS),
        )
        for column, values, typ in extras:
            if column:
                filled = [[None] * n if v is None else v for v, n in zip(values, rep.tolist(), strict=True)]
                cols[column] = pa.array(list(chain.from_iterable(filled)), typ)
        folder = self.root / f"model={model}" / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{uuid.uuid4().hex}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(pa.table(cols), tmp)
        os.replace(tmp, folder / name)

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
