"""Prometheus metrics of the server, correct with several worker processes.

With more than one worker, ``shopml serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder
before the workers start; prometheus_client then keeps every value in a per-process memory-mapped file
and ``GET /metrics`` (answered by any worker) aggregates all of them with ``MultiProcessCollector``:
counters and histograms are summed, the log-backlog gauge is summed over live workers, the served
version gauge takes the maximum. With one worker the values live in this process's own registry.

Label values are bounded: unknown model names are counted under ``model=""``.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["CONTENT_TYPE", "ServeMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024)


class ServeMetrics:
    """All server metrics in one registry; children are cached so the hot path does one dict look-up."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "shopml_requests", "Requests answered", ["model", "version", "endpoint", "status"], registry=r
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

    def observe_request(self, model: str, version: str, endpoint: str, status: int, seconds: float) -> None:
        """Count one answer and its latency."""
        key = (model, version, endpoint, status)
        pair = self._children.get(key)
        if pair is None:
            pair = (
                self.requests.labels(model, version, endpoint, str(status)),
                self.latency.labels(model, version, endpoint),
            )
            self._children[key] = pair
        pair[0].inc()
        pair[1].observe(seconds)

    def observe_batch(self, model: str, rows: int) -> None:
        """Record one model call's row count."""
        key = ("batch", model)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.batch_size.labels(model)
        child.observe(rows)

    def observe_cache(self, model: str, hit: bool) -> None:
        """Count a cache hit or miss."""
        key = ("cache", model, hit)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self.cache.labels(model, "hit" if hit else "miss")
        child.inc()

    def render(self) -> bytes:
        """The Prometheus text exposition (all workers' values in multiprocess mode)."""
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
