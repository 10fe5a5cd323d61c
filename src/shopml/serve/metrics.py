"""Prometheus metrics of the server, correct with several worker processes.

With more than one worker, ``shopml serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder
before the workers start; prometheus_client then keeps every value in a per-process memory-mapped file
and ``GET /metrics`` (answered by any worker) aggregates all of them with ``MultiProcessCollector``:
counters and histograms are summed, the log-backlog gauge is summed over live workers, the served
version gauge takes the maximum. With one worker the values live in this process's own registry.

Label values are bounded: unknown model names are counted under ``model=""``.

The per-request series (request counts, latency and batch-size histograms) are accumulated in plain
Python ints and floats on the event loop and added to the prometheus_client objects by :meth:`flush`,
which the server calls every ``FLUSH_INTERVAL_S`` (0.25 s), before rendering ``/metrics`` and at
shutdown: a prometheus_client update costs about a microsecond (a lock, and in multiprocess mode a
write to the memory-mapped file) per value, the accumulation a tenth of that. ``/metrics`` therefore
shows this worker's values exactly and other workers' values at most ``FLUSH_INTERVAL_S`` late.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "FLUSH_INTERVAL_S", "ServeMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)
FLUSH_INTERVAL_S = 0.25


class _Pending:
    """Observations of one histogram child (and optionally one counter child) not yet flushed."""

    __slots__ = ("bounds", "buckets", "count", "counter", "direct", "histogram", "sum")

    def __init__(self, histogram: Any, bounds: tuple[float, ...], counter: Any = None) -> None:
        self.histogram, self.counter, self.bounds = histogram, counter, bounds
        # prometheus_client keeps a histogram child's values in ``_sum`` and ``_buckets`` and has no
        # bulk observe; a version without them gets every observation directly (``direct``).
        self.direct = not (hasattr(histogram, "_sum") and hasattr(histogram, "_buckets"))
        self.count, self.sum = 0, 0.0
        self.buckets = [0] * (len(bounds) + 1)  # the last one is +Inf

    def flush(self) -> None:
        if not self.count:
            return
        h = self.histogram
        if self.counter is not None:
            self.counter.inc(self.count)
        h._sum.inc(self.sum)
        for i, c in enumerate(self.buckets):
            if c:
                h._buckets[i].inc(c)
        self.count, self.sum = 0, 0.0
        self.buckets = [0] * len(self.buckets)


class ServeMetrics:
    """All server metrics in one registry; children are cached so the hot path does one dict look-up."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "shopml_requests",
            "Requests answered (status in HTTP terms, also over gRPC)",
            ["model", "version", "endpoint", "status", "protocol"],
            registry=r,
        )
        self.latency = Histogram(
            "shopml_request_latency_seconds",
            "Time from request start to answer",
            ["model", "version", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "shopml_batch_rows", "Rows per model call", ["model"], buckets=BATCH_BUCKETS, registry=r
        )
        self.cache = Counter("shopml_cache", "Response cache look-ups", ["model", "result"], registry=r)
        self.errors = Counter("shopml_errors", "Error answers by kind", ["kind"], registry=r)
        self.unseen = Counter(
            "shopml_unseen_categories", "Category values served as unknown", ["model", "feature"], registry=r
        )
        self.log_backlog = Gauge(
            "shopml_prediction_log_backlog_rows",
            "Predictions answered but not yet on disk",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.log_written = Counter("shopml_prediction_log_written_rows", "Rows written", registry=r)
        self.log_dropped = Counter(
            "shopml_prediction_log_dropped_rows",
            "Rows dropped because the log writer fell behind",
            registry=r,
        )
        self.log_errors = Counter("shopml_prediction_log_write_errors", "Failed log file writes", registry=r)
        self.swaps = Counter("shopml_model_swaps", "Model versions swapped in", ["model"], registry=r)
        self.version = Gauge(
            "shopml_model_version", "Version being served", ["model"], multiprocess_mode="max", registry=r
        )
        self._children: dict[tuple[Any, ...], Any] = {}
        self._pending: dict[tuple[Any, ...], _Pending] = {}

    def observe_request(
        self, model: str, version: str, endpoint: str, status: int, seconds: float, protocol: str = "rest"
    ) -> None:
        """Count one answer and its latency (``protocol``: ``rest`` or ``grpc``)."""
        key = (model, version, endpoint, status, protocol)
        p = self._pending.get(key)
        if p is None:
            p = self._pending[key] = _Pending(
                self.latency.labels(model, version, endpoint),
                LATENCY_BUCKETS,
                self.requests.labels(model, version, endpoint, str(status), protocol),
            )
        if p.direct:
            p.counter.inc()
            p.histogram.observe(seconds)
            return
        p.count += 1
        p.sum += seconds
        p.buckets[bisect_left(p.bounds, seconds)] += 1

    def observe_batch(self, model: str, rows: int) -> None:
        """Record one model call's row count."""
        key = ("batch", model)
        p = self._pending.get(key)
        if p is None:
            p = self._pending[key] = _Pending(self.batch_size.labels(model), BATCH_BUCKETS)
        if p.direct:
            p.histogram.observe(rows)
            return
        p.count += 1
        p.sum += rows
        p.buckets[bisect_left(p.bounds, rows)] += 1

    def flush(self) -> None:
        """Add the accumulated observations to the prometheus_client objects (event-loop thread)."""
        for p in self._pending.values():
            p.flush()

    def observe_cache(self, model: str, hit: bool) -> None:
        """Count a cache hit or miss."""
        key = ("cache", model, hit)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.cache.labels(model, "hit" if hit else "miss")
        child.inc()

    def render(self) -> bytes:
        """The Prometheus text exposition (all workers' values in multiprocess mode)."""
        self.flush()
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
