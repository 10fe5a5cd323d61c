"""Simulator throughput and peak memory: the vectorised day-chunk generator vs a naive per-row one.

Run: ``.venv/bin/python -m benchmarks.bench_simulate [--quick]``

The full run simulates ~10 million transactions (60 days, 950k customers; orders and label feeds are
written too) in a child process and reports transactions/s and the child's peak RSS
(``getrusage(RUSAGE_CHILDREN)``). The baseline, in the same run, is a plain-Python generator making one
transaction at a time (same kinds of draws, per-customer deques for the history features, rows written
with ``pa.Table.from_pylist``) on a small sample; the ratio compares the two.

The transactions figure is measured with browsing sessions off (``session_rate=0``: the transactions
world alone); a second child run simulates the default world with sessions and reports what they add
(wall time, peak memory, session rows).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shopml.simulate.catalog import HOUR_PROFILE

TARGET_ROWS_S = 500_000
TARGET_RSS_MB = 2048


def _child(out: Path, days: int, customers: int, session_rate: float | None) -> None:
    """Run one simulation and print its figures as JSON (peak RSS measured by the parent);
    ``session_rate`` ``None``: the simulator's default."""
    from shopml.simulate import simulate

    extra = {} if session_rate is None else {"session_rate": session_rate}
    t0, main0 = time.perf_counter(), time.thread_time()
    r = simulate(out, days=days, customers=customers, seed=1, scenario="sudden_covariate", **extra)
    seconds, main_cpu = time.perf_counter() - t0, time.thread_time() - main0
    print(json.dumps({"rows": r.rows, "seconds": seconds, "main_cpu": main_cpu}))


def vectorised(days: int, customers: int, session_rate: float | None = 0.0) -> dict[str, float]:
    """Simulate in a child process; rows/s and the child's peak RSS in MB (``RUSAGE_CHILDREN`` keeps the
    largest child so far: run the smaller world first)."""
    with tempfile.TemporaryDirectory(prefix="shopml-bench-sim-") as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        rate = "default" if session_rate is None else str(session_rate)
        cmd = [sys.executable, "-m", "benchmarks.bench_simulate", "--child", tmp, str(days), str(customers)]
        cmd.append(rate)
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        disk = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    rows = figures["rows"]["transactions"]
    return {
        "transactions": rows,
        "orders": figures["rows"]["orders"],
        "sessions": figures["rows"].get("sessions", 0),
        "seconds": figures["seconds"],
        "rows_per_s": rows / figures["seconds"],
        "cpu_seconds": cpu,
        "main_cpu": figures["main_cpu"],
        "peak_rss_mb": after.ru_maxrss / 1024,
        "disk_mb": disk / 1e6,
    }


def naive(n: int, seed: int = 0) -> float:
    """A per-row Python generator (the obvious first implementation); returns rows/s."""
    rnd = random.Random(seed)
    customers = max(n // 20, 10)
    activity = [rnd.gammavariate(0.8, 1.25) for _ in range(customers)]
    categories = [
        ("electronics", 140, 0.9),
        ("fashion", 48, 0.6),
        ("groceries", 38, 0.5),
        ("travel", 260, 0.7),
    ]
    hours = HOUR_PROFILE.tolist()
    history: dict[int, deque[tuple[float, float]]] = {}
    t0 = time.perf_counter()
    rows = []
    per_day = max(n // 30, 1)
    for i in range(n):
        day = i // per_day
        c = rnd.choices(range(customers), weights=activity)[0]
        ts = day * 86400 + rnd.choices(range(24), weights=hours)[0] * 3600 + rnd.random() * 3600
        name, median, sigma = rnd.choice(categories)
        amount = round(rnd.lognormvariate(math.log(median), sigma), 2)
        past = history.setdefault(c, deque())
        while past and past[0][0] < ts - 30 * 86400:
            past.popleft()
        earlier = [p for p in past if p[0] < ts]
        rows.append(
            {
                "transaction_id": f"tx{i:010d}",
                "customer_id": f"c{c:09d}",
                "ts": ts,
                "amount": amount,
                "merchant_category": name,
                "is_fraud": int(rnd.random() < 0.005),
                "txn_count_24h": sum(1 for p in earlier if p[0] >= ts - 86400),
                "amount_avg_30d": statistics.fmean(p[1] for p in earlier) if earlier else None,
                "seconds_since_last_txn": ts - earlier[-1][0] if earlier else None,
            }
        )
        past.append((ts, amount))
    with tempfile.TemporaryDirectory() as tmp:
        pq.write_table(pa.Table.from_pylist(rows), Path(tmp) / "part-0.parquet")
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run (~200k transactions)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        rate = None if args.child[3] == "default" else float(args.child[3])
        _child(Path(args.child[0]), int(args.child[1]), int(args.child[2]), rate)
        return
    days, customers, sample = (30, 40_000, 5_000) if args.quick else (60, 950_000, 50_000)
    print(f"simulate: {days} days x {customers:,} customers (+30 warm-up days), scenario sudden_covariate")
    load = os.getloadavg()
    fast = vectorised(days, customers)
    slow = naive(sample)
    print(
        f"  vectorised: {fast['transactions']:,} transactions (+{fast['orders']:,} orders) in "
        f"{fast['seconds']:.1f} s = {fast['rows_per_s']:,.0f} transactions/s; peak RSS "
        f"{fast['peak_rss_mb']:,.0f} MB; {fast['disk_mb']:,.0f} MB on disk"
    )
    print(
        f"  child CPU time {fast['cpu_seconds']:.1f} s (user+sys, all threads; load average before/after "
        f"{load[0]:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    bound = max(fast["main_cpu"], fast["cpu_seconds"] / 2)  # the main thread, or both cores busy
    print(
        f"  main-thread CPU {fast['main_cpu']:.1f} s: with two free cores (writers run beside it) about "
        f"{fast['transactions'] / bound:,.0f} transactions/s (rows / max(main CPU, all CPU / 2))"
    )
    print(f"  naive per-row Python ({sample:,} transactions): {slow:,.0f} transactions/s")
    print(f"  ratio vectorised / naive: {fast['rows_per_s'] / slow:,.1f}x")
    ok_speed = fast["rows_per_s"] >= TARGET_ROWS_S
    ok_mem = fast["peak_rss_mb"] < TARGET_RSS_MB
    print(
        f"  target >= {TARGET_ROWS_S:,} rows/s: {'met' if ok_speed else 'NOT met'}; "
        f"peak RSS < {TARGET_RSS_MB:,} MB: {'met' if ok_mem else 'NOT met'}"
    )
    full = vectorised(days, customers, session_rate=None)
    print(
        f"  with browsing sessions (the default world): +{full['sessions']:,} session events, "
        f"{full['seconds']:.1f} s ({full['seconds'] / fast['seconds']:.2f}x the transactions world), "
        f"child CPU {full['cpu_seconds']:.1f} s, peak RSS {full['peak_rss_mb']:,.0f} MB "
        f"(< {TARGET_RSS_MB:,} MB: {'met' if full['peak_rss_mb'] < TARGET_RSS_MB else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
