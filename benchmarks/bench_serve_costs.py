"""Where a served request's time goes: shopml serve with parts taken away, against the no-op ceiling.

    .venv/bin/python -m benchmarks.bench_serve_costs [--quick] [--duration S] [--rounds N] [--json OUT]

``bench_serve`` compares shopml with the no-op ASGI app (the ceiling of Python HTTP on this stack). This
one says what the gap is made of. In paired rounds (each server measured in turn, the others paused with
SIGSTOP, so that a busy machine weighs on all alike), ``wrk -t1 -c32`` drives, on the same uvicorn stack
(uvloop + httptools, coalescing protocol, one worker):

- ``noop``: the ceiling;
- ``busy N``: the no-op after spinning N µs per request: what any fixed per-request work costs here;
- ``shopml``: the real server (300-tree XGBoost fraud model in ONNX Runtime, prediction log on);
- ``shopml, no log``: ``serve.log_predictions: false``;
- ``shopml, free model``: the model call replaced by constant scores (no ONNX Runtime; everything else —
  HTTP, JSON, checks, micro-batching, answer, log, metrics — as served);
- ``shopml, free model, no log``.

Each reports the median requests/s of its rounds, its ratio to the no-op in the same rounds, and the
server's CPU per request (from ``/proc``, all threads). The free-model variants run the real
``shopml serve`` with :meth:`OnnxPredictor.predict` patched in the server process by
``benchmarks.serve_variant`` — benchmark code only; the product has no such switch.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_serve import PATH, _load, _port, _start, _stop, _uvicorn
from benchmarks.serve_fixture import make_bundle, make_rows
from shopml.serve.http import PROTOCOL

BUSY_US = (10, 20, 30)


def _cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every process in the group ``pgid``."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            f = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[2]) == pgid:
            total += (int(f[11]) + int(f[12])) / tick
    return total


def _servers(ws: Path) -> dict[str, tuple[list[str], str, dict[str, str]]]:
    """name → (command, health URL path, extra environment)."""
    shopml = [sys.executable, "-m", "benchmarks.serve_variant", "--workspace", str(ws)]
    out: dict[str, tuple[list[str], str, dict[str, str]]] = {
        "noop": (["noop"], "/", {}),
        **{f"busy {n} µs": (["busy"], "/", {"BENCH_BUSY_US": str(n)}) for n in BUSY_US},
        "shopml": (shopml, "/v2/health/ready", {}),
        "shopml, no log": (shopml, "/v2/health/ready", {"SHOPML_SERVE__LOG_PREDICTIONS": "false"}),
        "shopml, free model": ([*shopml, "--free-model"], "/v2/health/ready", {}),
        "shopml, free model, no log": (
            [*shopml, "--free-model"],
            "/v2/health/ready",
            {"SHOPML_SERVE__LOG_PREDICTIONS": "false"},
        ),
    }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1-second points, 1 round, smaller model")
    ap.add_argument("--duration", type=float, default=None, help="seconds per point [5; quick 1]")
    ap.add_argument("--rounds", type=int, default=None, help="paired rounds; medians [3; quick 1]")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    duration = args.duration or (1.0 if args.quick else 5.0)
    rounds = args.rounds or (1 if args.quick else 3)
    load = os.getloadavg()
    print(f"wrk -t1 -c32, {duration:.0f} s per point, {rounds} rounds; load average {load[0]:.2f}")
    tmp = Path(tempfile.mkdtemp(prefix="shopml-bench-costs-"))
    live: dict[str, subprocess.Popen[bytes]] = {}
    try:
        from shopml.config import Workspace
        from shopml.registry import Registry

        fm = make_bundle(tmp / "bundle", n_trees=50 if args.quick else 300, depth=6, n_rows=3000)
        ws = tmp / "ws"
        Registry(Workspace(ws)).register(fm.bundle.path, params={}, metrics={})
        body = [json.dumps({"instances": [r]}).encode() for r in make_rows(200, seed=3)[0]]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "SHOPML_SERVE__COALESCE_WRITES": "true"}
        urls: dict[str, str] = {}
        for name, (cmd, health, extra) in _servers(ws).items():
            port = _port()
            if cmd in (["noop"], ["busy"]):
                cmd = _uvicorn(f"benchmarks.serve_apps:{cmd[0]}", port, PROTOCOL, 1)
            else:
                cmd = [*cmd, "--port", str(port)]
            health_url = f"http://127.0.0.1:{port}{health}"
            live[name] = proc = _start(cmd, {**env, **extra}, health_url, tmp / f"server-{len(live)}.log")
            urls[name] = f"http://127.0.0.1:{port}{PATH}"
            _load(urls[name], body, 32, 1.0)  # warm-up
            os.killpg(proc.pid, signal.SIGSTOP)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in live}
        for r in range(rounds):
            order = list(live) if r % 2 == 0 else list(reversed(live))
            for name in order:
                proc = live[name]
                os.killpg(proc.pid, signal.SIGCONT)
                time.sleep(0.3)
                _load(urls[name], body, 32, 0.5)  # catch up after the pause
                c0 = _cpu_s(proc.pid)
                out = _load(urls[name], body, 32, duration)
                out["cpu_us"] = (_cpu_s(proc.pid) - c0) / max(out["requests"], 1) * 1e6
                runs[name].append(out)
                os.killpg(proc.pid, signal.SIGSTOP)
        report = _report(runs)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return report
    finally:
        for proc in live.values():
            os.killpg(proc.pid, signal.SIGCONT)
            _stop(proc)


def _median(xs: list[float]) -> float:
    return sorted(xs)[(len(xs) - 1) // 2]


def _report(runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    noop = runs["noop"]
    rows: dict[str, dict[str, float]] = {}
    head = ("server", "req/s", "of no-op", "per round", "CPU/req", "p99")
    print("{:28s} {:>8s} {:>9s} {:>16s} {:>9s} {:>8s} errors".format(*head))
    for name, rs in runs.items():
        ratios = [a["rps"] / max(b["rps"], 1.0) for a, b in zip(rs, noop, strict=True)]
        rows[name] = {
            "rps": _median([r["rps"] for r in rs]),
            "ratio": _median(ratios),
            "cpu_us": _median([r["cpu_us"] for r in rs]),
            "p99_us": _median([r["p99_us"] for r in rs]),
            "errors": sum(r["errors"] for r in rs),
        }
        x = rows[name]
        print(
            f"{name:28s} {x['rps']:8.0f} {x['ratio']:9.0%} {'/'.join(f'{q:.0%}' for q in ratios):>16s} "
            f"{x['cpu_us']:7.1f}µs {x['p99_us'] / 1000:6.1f}ms {x['errors']:.0f}"
        )
    return {"servers": rows, "runs": runs}


if __name__ == "__main__":
    main()
