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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from shopml.serve.metrics import ServeMetrics

__all__ = ["LogRecord", "PredictionLog"]

log = logging.getLogger(__name__)
_TS = pa.timestamp("us", tz="UTC")
_KIND_TYPES = {"numeric": pa.float64(), "categorical": pa.string(), "boolean": pa.bool_()}


@dataclass(frozen=True)
class LogRecord:
    """One answered request (one or more rows)."""

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
        self._backlog = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0

    def start(self) -> PredictionLog:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shopml-prediction-log", daemon=True)
            self._thread.start()
        return self

    def append(self, record: LogRecord) -> None:
        """Queue a record (called on the request path; never blocks on I/O)."""
        n = len(record.request_ids)
        with self._lock:
            if self._backlog + n > self.max_backlog_rows:
                self.dropped += n
                self.metrics.log_dropped.inc(n)
                return
            self._backlog += n
        self._queue.append(record)
        self.metrics.log_backlog.inc(n)
        if self._backlog >= 50_000:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows answered but not yet written."""
        return self._backlog

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
        groups: dict[tuple[str, str, int], list[LogRecord]] = defaultdict(list)
        for rec in records:  # one file per model, day and version (versions may differ in inputs)
            day = datetime.fromtimestamp(rec.ts, UTC).strftime("%Y-%m-%d")
            groups[(rec.model, day, rec.version)].append(rec)
        total = 0
        for (model, day, _), recs in groups.items():
            rows = sum(len(r.request_ids) for r in recs)
            try:
                self._write(model, day, recs)
                self.written += rows
                self.metrics.log_written.inc(rows)
            except Exception:  # disk full, permissions: count, keep serving
                log.exception("prediction log: writing %d rows for model %s failed", rows, model)
                self.metrics.log_errors.inc()
                self.dropped += rows
                self.metrics.log_dropped.inc(rows)
            with self._lock:
                self._backlog -= rows
            self.metrics.log_backlog.dec(rows)
            total += rows
        return total

    def _write(self, model: str, day: str, recs: list[LogRecord]) -> None:
        first = recs[0]
        cols: dict[str, pa.Array] = {}
        rep = [len(r.request_ids) for r in recs]
        cols["request_id"] = pa.array([i for r in recs for i in r.request_ids], pa.string())
        ts = np.repeat(np.array([int(r.ts * 1e6) for r in recs], dtype=np.int64), rep)
        cols["ts"] = pa.array(ts, pa.int64()).cast(_TS)
        cols["model"] = pa.array([model] * len(ts), pa.string())
        cols["model_version"] = pa.array(np.repeat([r.version for r in recs], rep), pa.int64())
        cols["score"] = pa.array(np.concatenate([r.scores for r in recs]).astype(np.float64), pa.float64())
        thresholds = np.repeat([r.threshold for r in recs], rep)
        cols["decision"] = pa.array((cols["score"].to_numpy() >= thresholds).astype(np.int8), pa.int8())
        cols["threshold"] = pa.array(thresholds, pa.float64())
        cols["latency_ms"] = pa.array(np.repeat([r.latency_ms for r in recs], rep), pa.float64())
        for name, kind in first.kinds.items():
            values = [v for r in recs for v in r.features.get(name, [None] * len(r.request_ids))]
            cols[name] = pa.array(values, _KIND_TYPES[kind])
        if first.id_column:
            ids = [v for r in recs for v in (r.ids or [None] * len(r.request_ids))]
            cols[first.id_column] = pa.array(ids, pa.string())
        if first.time_column:
            times = [v for r in recs for v in (r.times or [None] * len(r.request_ids))]
            cols[first.time_column] = pa.array(times, _TS)
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
