"""Server metrics: accumulated observations reach prometheus_client exactly, on flush and on render."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from shopml.serve import ServeMetrics
from shopml.serve.metrics import LATENCY_BUCKETS


def _samples(text: str, prefix: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith(prefix):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_accumulated_latency_histogram_equals_direct_observation() -> None:
    metrics = ServeMetrics()
    registry = CollectorRegistry()
    reference = Histogram("ref_seconds", "", ["model"], buckets=LATENCY_BUCKETS, registry=registry)
    values = [0.00005, 0.0001, 0.0003, 0.0025, 0.004, 0.25, 3.0] * 3
    for v in values:
        metrics.observe_request("fraud", "1", "v1_predict", 200, v)
        reference.labels("fraud").observe(v)
    metrics.observe_request("fraud", "1", "v1_predict", 422, 0.001)  # another counter, the same histogram
    reference.labels("fraud").observe(0.001)
    text = metrics.render().decode()  # render flushes first
    got = _samples(text, "shopml_request_latency_seconds_bucket")
    want = _samples(generate_latest(registry).decode(), "ref_seconds_bucket")
    assert len(got) == len(want) == len(LATENCY_BUCKETS) + 1
    for name, value in want.items():
        le = name.split('le="')[1].split('"')[0]
        labels = f'endpoint="v1_predict",le="{le}",model="fraud",version="1"'
        assert got[f"shopml_request_latency_seconds_bucket{{{labels}}}"] == value
    labels = 'endpoint="v1_predict",model="fraud",protocol="rest",status="200",version="1"'
    ok = f"shopml_requests_total{{{labels}}} 21.0"
    assert ok in text and 'status="422",version="1"} 1.0' in text


def test_flush_is_incremental_and_batches_are_counted() -> None:
    metrics = ServeMetrics()
    for rows in (1, 3, 3, 40):
        metrics.observe_batch("fraud", rows)
    metrics.flush()
    metrics.flush()  # nothing pending: adds nothing
    metrics.observe_batch("fraud", 2)
    text = metrics.render().decode()
    assert 'shopml_batch_rows_count{model="fraud"} 5.0' in text
    assert 'shopml_batch_rows_sum{model="fraud"} 49.0' in text
    assert 'shopml_batch_rows_bucket{le="4.0",model="fraud"} 4.0' in text
