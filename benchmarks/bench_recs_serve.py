"""Serving the session recommender: ``POST /v1/models/recs/predict`` vs PyTorch eager, one run.

    .venv/bin/python -m benchmarks.bench_recs_serve [--quick] [--items N] [--duration S] [--json OUT]

A GRU recommender of the default training size (embedding 64, hidden 128) over a catalogue of ``--items``
items (50,000) is exported to ONNX (parity-checked), written as a ``ranking`` bundle and registered in a
fresh workspace; ``shopml serve`` (one worker, prediction logging on) runs as its own process and is
loaded over loopback by ``wrk`` (one thread) at 1 and 32 connections with one-session requests
``{"instances": [{"session": [...]}], "parameters": {"k": 20, "exclude_seen": true}}`` cycling through
500 sessions of 1 to 10 random items. The weights are the seeded initial ones: the cost of a forward
pass and of the top-K does not depend on their values. PyTorch eager is the same network in this
process (``torch.no_grad``, 1 thread): one session per call (the c=1 comparison) and 32 sessions per
call (the c=32 comparison: what a batching eager server could reach at best, with no HTTP, JSON or log),
each followed by the same seen-item mask and ``topk(20)``. Figures are medians of per-call times (eager)
or wrk's latency histogram (server). Target: c=1 p50 <= 2 ms for a 50,000-item catalogue.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_serve import load_points, shopml_served
from benchmarks.recs_fixture import write_recs_bundle

PATH = "/v1/models/recs/predict"
K = 20
TARGET_P50_MS = 2.0


def sessions(n_items: int, n: int, seed: int = 5) -> list[list[int]]:
    """``n`` sessions of 1 to 10 random item indices."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n_items, int(rng.integers(1, 11))).tolist() for _ in range(n)]


def eager(model: Any, pool: list[list[int]], reps: int) -> dict[str, float]:
    """Median µs per call of PyTorch eager (forward, seen-item mask, top-K) for 1 and 32 sessions."""
    import torch

    def call(ss: list[list[int]]) -> Any:
        width = max(len(s) for s in ss)
        x = torch.zeros((len(ss), width), dtype=torch.int64)
        for i, s in enumerate(ss):
            x[i, : len(s)] = torch.tensor(s)
        lengths = torch.tensor([len(s) for s in ss])
        with torch.no_grad():
            scores = model(x, lengths)
            for i, s in enumerate(ss):
                scores[i, s] = float("-inf")
            return torch.topk(scores, K, dim=1)

    out: dict[str, float] = {}
    for size in (1, 32):
        times = []
        for r in range(reps if size == 1 else max(reps // 8, 20)):
            batch = [pool[(r * size + j) % len(pool)] for j in range(size)]
            t = time.perf_counter()
            call(batch)
            times.append(time.perf_counter() - t)
        out[f"eager_batch{size}_us"] = float(np.median(times) * 1e6)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-second load points, fewer eager repetitions")
    ap.add_argument("--items", type=int, default=50_000, help="catalogue size [50000]")
    ap.add_argument("--duration", type=float, default=None, help="seconds per load point [10; quick 2]")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 10.0)
    import torch

    from shopml.config import Workspace
    from shopml.recs.model import GRURec
    from shopml.registry import Registry

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = GRURec(args.items, 64, 128).eval()
    items = [f"i{i:07d}" for i in range(args.items)]
    load = os.getloadavg()
    print(
        f"catalogue {args.items:,} items, GRU 64/128; wrk: {duration:.0f} s per point; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; target: c=1 p50 <= {TARGET_P50_MS} ms"
    )
    tmp = Path(tempfile.mkdtemp(prefix="shopml-bench-recs-serve-"))
    try:
        bundle = write_recs_bundle(tmp / "bundle", model, items, items[:100], k=K)
        ws = tmp / "ws"
        Registry(Workspace(ws)).register(bundle.path, params={}, metrics={})
        pool = sessions(args.items, 500)
        reps = 200 if args.quick else 2000
        figures = eager(model, pool, reps)
        params = {"k": K, "exclude_seen": True}
        body = [
            json.dumps({"instances": [{"session": [items[i] for i in s]}], "parameters": params}).encode()
            for s in pool
        ]
        with shopml_served(ws, tmp / "serve.log") as base:
            c1, c32 = load_points(base + PATH, body, duration)
        print(f"c=1 {c1}\nc=32 {c32}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    eager1_ms = figures["eager_batch1_us"] / 1000
    eager32_rps = 32 / (figures["eager_batch32_us"] / 1e6)
    result = {
        "items": args.items,
        "tool": "wrk" if shutil.which("wrk") else "python-asyncio",
        "duration_s": duration,
        "serve_c1_p50_ms": c1["p50_us"] / 1000,
        "serve_c1_p99_ms": c1["p99_us"] / 1000,
        "serve_c1_rps": c1["rps"],
        "serve_c32_rps": c32["rps"],
        "serve_c32_p50_ms": c32["p50_us"] / 1000,
        "serve_c32_p99_ms": c32["p99_us"] / 1000,
        "errors": c1["errors"] + c32["errors"],
        "eager_1_ms": eager1_ms,
        "eager_1_rps": 1000 / eager1_ms,
        "eager_32_rps": eager32_rps,
        "ratio_c1_p50_serve_over_eager": c1["p50_us"] / 1000 / eager1_ms,
        "ratio_c32_rps_serve_over_eager32": c32["rps"] / eager32_rps,
        "target_met": c1["p50_us"] / 1000 <= TARGET_P50_MS and c1["errors"] + c32["errors"] == 0,
    }
    print(
        f"shopml serve  c=1: p50 {result['serve_c1_p50_ms']:.2f} ms, p99 {result['serve_c1_p99_ms']:.2f} ms, "
        f"{c1['rps']:,.0f} req/s | c=32: {c32['rps']:,.0f} req/s, p50 {result['serve_c32_p50_ms']:.2f} ms, "
        f"p99 {result['serve_c32_p99_ms']:.2f} ms | errors {result['errors']:.0f}\n"
        f"PyTorch eager one session: {eager1_ms:.2f} ms ({result['eager_1_rps']:,.0f}/s); "
        f"32 per call: {eager32_rps:,.0f} sessions/s\n"
        f"ratios: c=1 p50 serve/eager {result['ratio_c1_p50_serve_over_eager']:.2f}; "
        f"c=32 throughput serve/eager-32 {result['ratio_c32_rps_serve_over_eager32']:.2f}\n"
        f"target c=1 p50 <= {TARGET_P50_MS} ms: {'met' if result['target_met'] else 'NOT met'}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
