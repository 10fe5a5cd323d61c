"""Serving benchmark: shopml serve vs a no-op ASGI app vs a naive FastAPI + XGBoost server, one run.

    .venv/bin/python -m benchmarks.bench_serve [--quick] [--duration S] [--rounds N] [--workers N]
                                               [--stock-http] [--baseline SRC] [--json OUT]

A fraud model (XGBoost, 300 trees, depth 6, 13 inputs, exported to ONNX per the bundle contract) is
registered in a fresh workspace registry; each server runs as its own process on the same uvicorn stack
(uvloop + httptools with shopml's coalescing protocol, which sends a response's head and body in one
write — ``--stock-http``: uvicorn's own httptools protocol for all three; ``--workers`` N each, prediction
logging on for shopml) and is loaded over loopback by ``wrk`` (one thread; install it with
``apt-get install -y wrk``) at 1 and 32 connections with one-row ``POST /v1/models/fraud/predict``
requests cycling through 200 different rows (the response cache is off: every request is scored).
The servers run side by side, each stopped (SIGSTOP) while another is measured; the c=32 points of
shopml and the no-op app alternate for ``--rounds`` rounds and each reports its median run, so that a
busy machine weighs on both alike. Without wrk, a Python asyncio keep-alive load generator in a
separate process is used instead (it saturates earlier than wrk: its figures are lower bounds).
``--baseline SRC`` adds a fourth server, ``shopml serve`` run from another source tree (e.g. an export of
an earlier commit: ``git archive REV src | tar -x -C /tmp/base``, then ``--baseline /tmp/base/src``),
measured in the same paired rounds, to compare a change before and after in one run.
Also reported: in-process model time (ONNX Runtime single row and batched; XGBoost ``predict_proba``)
and the in-process cost per request of the shopml ASGI app vs the no-op app at 32 concurrent requests
(no HTTP: what the app itself adds to uvicorn's own cost).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.loadgen import python_load, wrk_load
from benchmarks.serve_fixture import make_bundle, make_rows
from shopml.serve.http import PROTOCOL

PATH = "/v1/models/fraud/predict"
TARGETS = "c=32: >= 4x naive req/s, >= 50% of no-op, p99 <= 10 ms, 0 errors; c=1: p50 <= 300 us"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(cmd: list[str], env: dict[str, str], health: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=err, stderr=err, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[:4]} exited: {log.read_text()[-1500:]}")
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    _stop(proc)
    raise RuntimeError(f"{cmd[:4]} did not become ready: {log.read_text()[-1500:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the group this benchmark started
        os.killpg(proc.pid, signal.SIGCONT)  # in case it was paused
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _uvicorn(target: str, port: int, http: str, workers: int, factory: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--loop", "uvloop"]
    cmd += ["--http", http, "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return [*cmd, "--factory"] if factory else cmd


def in_process(fm: Any, rows: list[dict[str, Any]], reps: int) -> dict[str, float]:
    """Median model time in µs: ONNX Runtime (1 thread) single row / per row in a 64-row batch;
    XGBoost ``predict_proba`` single row; shopml's full decode→predict→encode path for one row."""
    import orjson

    from shopml.serve import InputCodec, OnnxPredictor
    from shopml.serve.protocol import decode_v1, encode_v1

    bundle = fm.bundle
    pred = OnnxPredictor(bundle).load()
    codec = InputCodec(bundle)
    one = codec.encode_rows(rows[:1]).feeds
    batch = codec.encode_rows(rows[:64]).feeds
    body = orjson.dumps({"instances": rows[:1]})

    def med(fn: Any, n: int) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return float(np.median(times) * 1e6)

    def path() -> None:
        enc = decode_v1(body, codec)
        encode_v1("fraud", 1, 0.5, ["r"], pred.predict(enc.feeds))

    frame = fm.frame(rows[:1])
    return {
        "onnx_row_us": med(lambda: pred.predict(one), reps),
        "onnx_batch64_per_row_us": med(lambda: pred.predict(batch), reps // 10) / 64,
        "xgboost_predict_proba_row_us": med(lambda: fm.pipeline.predict_proba(frame), max(reps // 10, 50)),
        "shopml_request_path_us": med(path, reps),
    }


def app_in_process(ws: Path, rows: list[dict[str, Any]], concurrency: int, rounds: int) -> dict[str, float]:
    """µs per request of the shopml ASGI app and of the no-op app driven in-process on uvloop, without
    HTTP: rounds of ``concurrency`` concurrent one-row requests (prediction log on, real model)."""
    import asyncio
    import gc

    import uvloop

    from benchmarks.serve_apps import noop
    from shopml.config import Settings
    from shopml.serve import build_app

    app = build_app(Settings(workspace=ws), poll=False)
    bodies = [json.dumps({"instances": [r]}).encode() for r in rows]
    statuses: list[int] = []

    async def send(msg: dict[str, Any]) -> None:
        if msg["type"] == "http.response.start":
            statuses.append(msg["status"])

    def request(target: Any, body: bytes) -> Any:
        scope = {
            "type": "http",
            "method": "POST",
            "path": PATH,
            "headers": [(b"content-length", b"%d" % len(body))],
        }
        msg = {"type": "http.request", "body": body, "more_body": False}

        async def receive() -> dict[str, Any]:
            return msg

        return target(scope, receive, send)

    async def run(target: Any) -> float:
        t = time.perf_counter()
        for i in range(rounds):
            await asyncio.gather(
                *(request(target, bodies[(i + j) % len(bodies)]) for j in range(concurrency))
            )
        return (time.perf_counter() - t) / (rounds * concurrency) * 1e6

    async def main() -> dict[str, float]:
        await app.startup()
        gc.collect()
        gc.freeze()
        try:
            await run(app)  # warm-up
            out = {
                f"shopml_app_c{concurrency}_us": await run(app),
                f"noop_app_c{concurrency}_us": await run(noop),
            }
        finally:
            await app.shutdown()
        if set(statuses) != {200}:
            raise RuntimeError(f"in-process requests failed: statuses {sorted(set(statuses))}")
        return out

    return uvloop.run(main())


def _load(url: str, body: list[bytes], conns: int, duration: float) -> dict[str, float]:
    if shutil.which("wrk"):
        return wrk_load(url, body, conns, duration)
    return python_load(url, body, conns, duration)


@contextmanager
def shopml_served(ws: Path, log: Path, **env: str) -> Iterator[str]:
    """``shopml serve`` on workspace ``ws`` (one worker, one OpenMP thread, ``env`` added) on a free
    loopback port, its output in ``log``: yields the base URL once ready, stops it on the way out."""
    port = _port()
    cmd = [str(Path(sys.executable).parent / "shopml"), "serve", "--workspace", str(ws), "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    proc = _start(cmd, {**os.environ, "OMP_NUM_THREADS": "1", **env}, f"{base}/v2/health/ready", log)
    try:
        yield base
    finally:
        _stop(proc)


def load_points(url: str, body: list[bytes], duration: float) -> tuple[dict[str, float], dict[str, float]]:
    """A short warm-up at 8 connections, then the c=1 and c=32 load points of ``body`` at ``url``."""
    _load(url, body, 8, min(1.0, duration))
    return _load(url, body, 1, duration), _load(url, body, 32, duration)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2-second runs, smaller model (smoke test)")
    ap.add_argument("--duration", type=float, default=None, help="seconds per load point [10; quick 2]")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument(
        "--rounds", type=int, default=3, help="alternating c=32 runs of shopml and no-op; medians [3]"
    )
    ap.add_argument(
        "--busy-us",
        type=float,
        default=0.0,
        help="also serve a no-op that spins this many µs per request (the stack's ceiling for an app "
        "with that much work) [off]",
    )
    ap.add_argument("--workers", type=int, default=1, help="worker processes of every server [1]")
    ap.add_argument(
        "--stock-http",
        action="store_true",
        help="run every server on uvicorn's own httptools protocol (head and body in two writes)",
    )
    ap.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="also serve shopml from this source folder (PYTHONPATH) in the same paired rounds [off]",
    )
    args = ap.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 10.0)
    tool = "wrk" if shutil.which("wrk") else "python-asyncio (wrk not found: apt-get install -y wrk)"
    http = "httptools" if args.stock_http else PROTOCOL
    load = os.getloadavg()
    print(
        f"load generator: {tool}; {duration:.0f} s per point, c=32 x {args.rounds} rounds; "
        f"http: {http}; workers: {args.workers}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
        f"targets: {TARGETS}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="shopml-bench-serve-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        import joblib

        from shopml.config import Workspace
        from shopml.registry import Registry

        trees = 50 if args.quick else 300
        fm = make_bundle(tmp / "bundle", n_trees=trees, depth=6, n_rows=3000 if args.quick else 20000)
        rows = make_rows(200, seed=3)[0]
        ws = tmp / "ws"
        Registry(Workspace(ws)).register(fm.bundle.path, params={}, metrics={})
        joblib.dump(fm.pipeline, tmp / "pipeline.joblib")
        model = in_process(fm, rows, 200 if args.quick else 3000)
        model |= app_in_process(ws, rows, 32, 50 if args.quick else 500)
        shutil.rmtree(ws / "logs", ignore_errors=True)  # the log check below counts the HTTP runs only
        print(
            "in-process time (µs; model: medians, app: means): "
            + ", ".join(f"{k}={v:.1f}" for k, v in model.items())
        )

        env = {**os.environ, "OMP_NUM_THREADS": "1", "BENCH_PIPELINE": str(tmp / "pipeline.joblib")}
        env["BENCH_BUSY_US"] = str(args.busy_us)
        env["SHOPML_SERVE__COALESCE_WRITES"] = "false" if args.stock_http else "true"
        body = [json.dumps({"instances": [r]}).encode() for r in rows]
        ports = {"shopml": _port(), "noop": _port(), "naive": _port()}
        if args.busy_us > 0:
            ports["busy"] = _port()
        if args.baseline is not None:
            ports["base"] = _port()
        shopml_cmd = [str(Path(sys.executable).parent / "shopml"), "serve", "--workspace", str(ws)]
        specs = {
            "shopml": (
                [*shopml_cmd, "--port", str(ports["shopml"]), "--workers", str(args.workers)],
                f"http://127.0.0.1:{ports['shopml']}/v2/health/ready",
            ),
            "noop": (
                _uvicorn("benchmarks.serve_apps:noop", ports["noop"], http, args.workers),
                f"http://127.0.0.1:{ports['noop']}/",
            ),
            "naive": (
                _uvicorn("benchmarks.serve_apps:naive_app", ports["naive"], http, args.workers, factory=True),
                f"http://127.0.0.1:{ports['naive']}/health",
            ),
        }
        if args.busy_us > 0:
            specs["busy"] = (
                _uvicorn("benchmarks.serve_apps:busy", ports["busy"], http, args.workers),
                f"http://127.0.0.1:{ports['busy']}/",
            )
        envs = {name: env for name in specs}
        if args.baseline is not None:
            specs["base"] = (
                [*shopml_cmd, "--port", str(ports["base"]), "--workers", str(args.workers)],
                f"http://127.0.0.1:{ports['base']}/v2/health/ready",
            )
            envs["base"] = {**env, "PYTHONPATH": str(args.baseline.resolve())}
        results: dict[str, dict[str, Any]] = {}
        live: dict[str, subprocess.Popen[bytes]] = {}
        for name, (cmd, health) in specs.items():
            live[name] = proc = _start(cmd, envs[name], health, tmp / f"{name}.log")
            procs.append(proc)
            _load(f"http://127.0.0.1:{ports[name]}{PATH}", body, 8, min(1.0, duration))  # warm-up
            _pause(proc)  # a server not being measured is stopped (SIGSTOP): it takes no CPU at all
        c32_runs = _measure(live, ports, body, duration, args.rounds, results)
        for name, proc in live.items():
            _stop(proc)
            for c in (1, 32):
                r = results[name][f"c{c}"]
                print(
                    f"{name:7s} c={c:<3d} {r['rps']:9.0f} req/s  p50 {r['p50_us']:8.0f} µs  "
                    f"p99 {r['p99_us']:8.0f} µs  errors {r['errors']}"
                )
        logged = _logged_rows(ws)
        report = _verdict(results, model, logged, tool, duration, c32_runs)
        report |= {"http": http, "workers": args.workers, "loadavg": [load, os.getloadavg()]}
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return report
    finally:
        for p in procs:
            _stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


def _pause(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGSTOP)


def _resume(proc: subprocess.Popen[bytes], url: str, body: list[bytes]) -> None:
    """Continue a paused server and let it catch up (timers, log flush) before it is measured."""
    os.killpg(proc.pid, signal.SIGCONT)
    time.sleep(0.3)
    _load(url, body, 8, 1.0)


def _measure(
    live: dict[str, subprocess.Popen[bytes]],
    ports: dict[str, int],
    body: list[bytes],
    duration: float,
    rounds: int,
    results: dict[str, dict[str, Any]],
) -> dict[str, list[dict[str, float]]]:
    """c=1 once per server, then ``rounds`` alternating c=32 runs of shopml, no-op (and baseline) (paired,
    so that a busy machine hits all alike); a server's c=32 figure is its run with the median req/s."""
    urls = {name: f"http://127.0.0.1:{port}{PATH}" for name, port in ports.items()}
    for name, proc in live.items():
        _resume(proc, urls[name], body)
        results[name] = {"c1": _load(urls[name], body, 1, duration)}
        if name in ("naive", "busy"):
            results[name]["c32"] = _load(urls[name], body, 32, duration)
        _pause(proc)
    paired = ["shopml", "noop", *(["base"] if "base" in live else [])]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in paired}
    for r in range(rounds):
        for name in paired if r % 2 == 0 else paired[::-1]:
            _resume(live[name], urls[name], body)
            runs[name].append(_load(urls[name], body, 32, duration))
            _pause(live[name])
    for name, rs in runs.items():
        results[name]["c32"] = sorted(rs, key=lambda x: x["rps"])[(len(rs) - 1) // 2]
    for proc in live.values():
        os.killpg(proc.pid, signal.SIGCONT)
    return runs


def _logged_rows(ws: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in (ws / "logs" / "predictions").rglob("*.parquet"))


def _verdict(
    results: dict[str, dict[str, Any]],
    model: dict[str, float],
    logged: int,
    tool: str,
    duration: float,
    c32_runs: dict[str, list[dict[str, float]]],
) -> dict[str, Any]:
    s32, n32, o32, s1 = (
        results[k][c] for k, c in (("shopml", "c32"), ("naive", "c32"), ("noop", "c32"), ("shopml", "c1"))
    )
    answered = results["shopml"]["c1"]["requests"] + sum(r["requests"] for r in c32_runs["shopml"])
    paired = [a["rps"] / max(b["rps"], 1) for a, b in zip(c32_runs["shopml"], c32_runs["noop"], strict=True)]
    if len(paired) > 1:
        median = sorted(paired)[(len(paired) - 1) // 2]
        print(f"c=32 shopml/no-op per round: {', '.join(f'{x:.0%}' for x in paired)} (median {median:.0%})")
    checks = {
        "c32 >= 4x naive": s32["rps"] >= 4 * n32["rps"],
        "c32 >= 50% of no-op": s32["rps"] >= 0.5 * o32["rps"],
        "c32 p99 <= 10 ms": s32["p99_us"] <= 10_000,
        "zero errors": all(r["errors"] == 0 for r in [results["shopml"]["c1"], *c32_runs["shopml"]]),
        "c1 p50 <= 300 us": s1["p50_us"] <= 300,
    }
    print(
        f"ratios at c=32: shopml/naive {s32['rps'] / max(n32['rps'], 1):.1f}x, "
        f"shopml/no-op {s32['rps'] / max(o32['rps'], 1):.0%}; prediction log rows {logged} "
        f"(>= {answered} answered in measured runs, warm-up included in the log)"
    )
    if "base" in c32_runs:
        per = [a["rps"] / max(b["rps"], 1) for a, b in zip(c32_runs["shopml"], c32_runs["base"], strict=True)]
        b1, bc = results["base"]["c1"], results["base"]["c32"]
        print(
            f"shopml/baseline: c=32 req/s per round {', '.join(f'{x:.0%}' for x in per)} "
            f"(median {sorted(per)[(len(per) - 1) // 2]:.0%}); c=1 p50 {s1['p50_us']:.0f} vs "
            f"{b1['p50_us']:.0f} µs ({s1['p50_us'] / max(b1['p50_us'], 1):.0%}); c=32 median runs "
            f"{s32['rps']:.0f} vs {bc['rps']:.0f} req/s"
        )
    if "busy" in results:
        b32 = results["busy"]["c32"]
        print(
            f"no-op spinning --busy-us per request, c=32: {b32['rps']:.0f} req/s = "
            f"{b32['rps'] / max(o32['rps'], 1):.0%} of no-op"
        )
    for k, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISS'}] {k}")
    return {
        "tool": tool,
        "duration_s": duration,
        "results": results,
        "model_us": model,
        "logged_rows": logged,
        "checks": checks,
        "c32_runs": c32_runs,
    }


if __name__ == "__main__":
    main()
