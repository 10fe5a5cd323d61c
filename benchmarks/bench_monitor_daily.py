"""Benchmark: one ``run_monitor`` per simulated day in one process (what the demo does), cached vs not.

Simulates 90 days (``sudden_covariate``), trains the first champion on what was known at day 42, writes the
prediction log of days 42-90 directly, ingests every label with its arrival time, then calls
``run_monitor(ws, "fraud", "1d", now=end_of_day)`` for 45 successive days (champion from the registry,
JSON + HTML reports, events) — once with the in-process caches, once with ``cache=False`` on a fresh copy.

    .venv/bin/python -m benchmarks.bench_monitor_daily            # 15,000 customers, 45 days
    .venv/bin/python -m benchmarks.bench_monitor_daily --quick    # 3,000 customers, 8 days
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from benchmarks.eval_monitor import FAST, _log, _score
from shopml import train as train_api
from shopml.config import Workspace
from shopml.monitor import ingest_labels, run_monitor, write_predictions
from shopml.monitor.cache import clear_caches
from shopml.registry import Registry
from shopml.simulate import simulate


def build(root: Path, customers: int) -> datetime:
    """Simulate, train, log and label; returns day 0 (midnight UTC)."""
    ws, world = Workspace(root / "ws").ensure(), root / "world"
    simulate(world, days=90, seed=3, scenario="sudden_covariate", customers=customers)
    tx = ds.dataset(world / "transactions", format="parquet", partitioning="hive").to_table()
    day0: datetime = (
        pc.min(tx.column("event_time")).as_py().replace(hour=0, minute=0, second=0, microsecond=0)
    )
    cut = pa.scalar(day0 + timedelta(days=42), pa.timestamp("us", "UTC"))
    at = tx.column("label_available_at")
    known = tx.filter(pc.and_(pc.less_equal(tx.column("event_time"), cut), pc.less_equal(at, cut)))
    train_api.train(
        train_api.preset("fraud", world, **FAST),
        table=known.drop_columns(["label_available_at"]),
        workspace=ws,
    )
    bundle = Registry(ws).load_bundle("fraud")
    prod = tx.filter(pc.greater(tx.column("event_time"), cut))
    log = _log(bundle, prod, _score(bundle, prod))
    latency = pa.array(np.random.default_rng(0).gamma(2.0, 3.0, log.num_rows))
    write_predictions(
        ws, "fraud", log.set_column(log.schema.get_field_index("latency_ms"), "latency_ms", latency)
    )
    labels = ds.dataset(world / "labels" / "fraud", format="parquet", partitioning="hive").to_table(
        columns=["transaction_id", "is_fraud", "label_available_at"]
    )
    ingest_labels(ws, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    return day0


def run(ws: Path, day0: datetime, days: int, cache: bool) -> list[float]:
    """Wall seconds of each daily call from day 45 on."""
    clear_caches()
    out = []
    for d in range(45, 45 + days):
        t = time.perf_counter()
        run_monitor(ws, "fraud", "1d", now=day0 + timedelta(days=d + 1), cache=cache)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    """Build once, time both ways, print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3,000 customers, 8 days")
    args = parser.parse_args()
    customers, days = (3_000, 8) if args.quick else (15_000, 45)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day0 = build(root, customers)
        results = {}
        for cache in (True, False):
            ws = root / f"ws-{cache}"
            shutil.copytree(root / "ws", ws)
            results[cache] = run(ws, day0, days, cache)
        for cache, t in results.items():
            print(
                f"cache={cache!s:<5} {days} daily calls: total {sum(t):6.1f} s, first {t[0]:.2f} s, "
                f"median {statistics.median(t):.2f} s, last {t[-1]:.2f} s"
            )
        ratio = statistics.median(results[False]) / statistics.median(results[True])
        print(f"median per call, uncached / cached: {ratio:.1f}x")


if __name__ == "__main__":
    main()
