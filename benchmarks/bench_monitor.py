"""Benchmark: ``run_monitor`` (performance + labels + stream detectors + drift) on a large prediction log.

In the same run, the baseline: the same per-window realised metrics with intervals computed the plain
way — scikit-learn's metric functions called once per bootstrap resample — on the same windows.

    .venv/bin/python -m benchmarks.bench_monitor            # 30 days x 100k predictions (3M rows)
    .venv/bin/python -m benchmarks.bench_monitor --quick    # 30 days x 2k
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from shopml.config import load_settings
from shopml.monitor import build_profile, ingest_labels, run_monitor, write_predictions
from shopml.registry import BundleMeta, ModelBundle

START = datetime(2026, 3, 1, tzinfo=UTC)
TS = pa.timestamp("us", tz="UTC")
SCHEMA = {
    "features": [
        {"name": "transaction_id", "kind": "id"},
        {"name": "event_time", "kind": "timestamp"},
        {"name": "amount", "kind": "numeric"},
        {"name": "country", "kind": "categorical"},
        {"name": "is_fraud", "kind": "target"},
    ]
}


def _world(n: int, days: int, seed: int) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    t0 = np.datetime64(START.replace(tzinfo=None), "us")
    offsets = np.sort(rng.integers(0, days * 86_400_000_000, n)).astype("timedelta64[us]")
    event = t0 + offsets
    amount = rng.lognormal(3.5, 1.0, n)
    country = rng.choice(np.array(["DE", "FR", "NL", "US"]), n)
    score = 1 / (1 + np.exp(-(-3.0 + 0.8 * (np.log(amount) - 3.5) + rng.normal(0, 1.2, n))))
    y = (rng.random(n) < score).astype(np.int8)
    ids = pa.array(np.char.add("t", np.arange(n).astype(str)))
    preds = pa.table(
        {
            "request_id": pa.array(np.char.add("r", np.arange(n).astype(str))),
            "ts": pa.array(event, TS),
            "model": pa.array(np.full(n, "fraud")),
            "model_version": pa.array(np.ones(n, np.int64)),
            "score": score,
            "decision": pa.array((score >= 0.2).astype(np.int8)),
            "threshold": np.full(n, 0.2),
            "latency_ms": np.ones(n),
            "amount": amount,
            "country": pa.array(country),
            "transaction_id": ids,
            "event_time": pa.array(event, TS),
        }
    )
    delay = np.where(y == 1, rng.uniform(2, 20, n), 14.0) * 86_400_000_000
    avail = event + delay.astype("timedelta64[us]")
    labels = pa.table(
        {"transaction_id": ids, "is_fraud": pa.array(y), "label_available_at": pa.array(avail, TS)}
    )
    return preds, labels


def _baseline(preds: pa.Table, labels: pa.Table, windows: int, n_boot: int, max_rows: int) -> float:
    """Seconds per matured window: scikit-learn metrics on ``n_boot`` resamples (same row cap as shopml),
    timed on the first ``windows`` windows."""
    rng = np.random.default_rng(0)
    t = preds.column("event_time").to_numpy().astype("datetime64[us]")
    s, d = preds.column("score").to_numpy(), preds.column("decision").to_numpy()
    y = labels.column("is_fraud").to_numpy()
    t0 = np.datetime64(START.replace(tzinfo=None), "us")
    start = time.perf_counter()
    for k in range(windows):
        lo, hi = t0 + np.timedelta64(k, "D"), t0 + np.timedelta64(k + 1, "D")
        idx = np.flatnonzero((t >= lo) & (t < hi))
        idx = rng.choice(idx, min(max_rows, idx.size), replace=False)
        for _ in range(n_boot):
            b = rng.choice(idx, idx.size)
            average_precision_score(y[b], s[b])
            precision_score(y[b], d[b], zero_division=0)
            recall_score(y[b], d[b], zero_division=0)
            f1_score(y[b], d[b], zero_division=0)
    return (time.perf_counter() - start) / windows


def main() -> None:
    """Run the benchmark and print timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    parser.add_argument("--per-day", type=int, default=100_000)
    args = parser.parse_args()
    days, per_day = 30, (2_000 if args.quick else args.per_day)
    settings = load_settings(path=None, environ={})
    cfg = settings.performance
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ref, ref_labels = _world(20_000, days, seed=1)
        meta = BundleMeta.model_validate(
            {
                "name": "fraud",
                "task": "fraud",
                "schema": SCHEMA,
                "inputs": ["amount", "country"],
                "threshold": 0.2,
                "id_column": "transaction_id",
                "time_column": "event_time",
                "target": "is_fraud",
                "metrics": {
                    "pr_auc": float(
                        average_precision_score(ref_labels.column("is_fraud"), ref.column("score"))
                    )
                },
            }
        )
        bundle = ModelBundle(Path(tmp) / "bundle", meta)
        bundle.save_meta()
        build_profile(ref, bundle.schema).save(bundle.profile_path)
        preds, labels = _world(days * per_day, days, seed=2)
        write_predictions(ws, "fraud", preds)
        ingest_labels(ws, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        result = run_monitor(
            ws, "fraud", "1d", START + timedelta(days=days), bundle=bundle, settings=settings
        )
        ours = time.perf_counter() - start
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        per_window = _baseline(preds, labels, 2, cfg.n_resamples, cfg.max_rows)
    matured = sum(w.matured for w in result.windows)
    base = per_window * matured
    print(f"log: {days} days x {per_day:,} = {days * per_day:,} predictions; {matured} matured windows")
    print(f"shopml run_monitor (30 windows: realised+bootstrap, CBPE, River, drift, reports): {ours:.2f} s")
    print(
        f"baseline, realised intervals only: sklearn per bootstrap resample, {per_window:.2f} s/window "
        f"(timed on 2) x {matured} = {base:.2f} s"
    )
    print(
        f"ratio baseline / shopml: {base / ours:.1f}x; "
        f"peak RSS before/after monitor: {rss0:.0f} / {rss1:.0f} MB"
    )


if __name__ == "__main__":
    main()
