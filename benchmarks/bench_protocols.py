"""Protocol benchmark: OIP v2 over REST JSON, REST binary tensors and gRPC, against one server in one run.

    .venv/bin/python -m benchmarks.bench_protocols [--quick] [--duration S] [--rounds N] [--batch N]
                                                     [--json OUT]

A fraud model (XGBoost, 300 trees, depth 6, 13 inputs → ONNX; ``--quick``: 50 trees) is registered in a
fresh workspace and served by one ``shopml serve --grpc-port`` process (1 worker, prediction log on, no
response cache: every request is scored). Every request is a one-row (``--batch N``: N-row) OIP v2 inference
with all 13 inputs and the id and time fields, cycling through 200 rows: ``POST /v2/models/fraud/infer``
with JSON tensors; the same with every input and output as binary tensors
(``Inference-Header-Content-Length``, what tritonclient sends by default); ``ModelInfer`` over gRPC with
``raw_input_contents`` (what tritonclient.grpc sends). Each point is a closed loop at 1 and at 32 concurrent
requests, run in its own process: REST from a raw-socket asyncio (uvloop) client on keep-alive connections,
gRPC from grpcio's asyncio client with the calls multiplexed on one channel. The three protocols alternate
for ``--rounds`` rounds (each round in a new order) and each reports its median; the run prints c=1 p50 and
c=32 throughput and their ratios to REST JSON, and first, in-process, what each protocol's own decoding and
encoding costs per request (no transport, best of 5). Client and server share the machine's cores, and the
two clients differ (grpcio's client does more per call than the raw-socket one): the ratios compare the
protocol stacks as a Python client sees them, not the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from benchmarks.bench_serve import _start
from benchmarks.serve_fixture import make_bundle, make_rows

PATH = "/v2/models/fraud/infer"
PROTOCOLS = ("rest_json", "rest_binary", "grpc")
DTYPES = {"numeric": "FP32", "boolean": "BOOL", "categorical": "BYTES"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requests(meta: dict[str, Any], rows: list[dict[str, Any]], batch: int = 1) -> dict[str, list[bytes]]:
    """Per protocol, pre-built requests of ``batch`` rows each (HTTP requests whole; gRPC serialized
    messages)."""
    from shopml.serve import tensors
    from shopml.serve.grpc import oip_pb2 as pb

    parts = [(t["name"], t["datatype"]) for t in meta["inputs"]]
    parts += [(meta["parameters"][c], "BYTES") for c in ("id_column", "time_column")]
    out: dict[str, list[bytes]] = {p: [] for p in PROTOCOLS}
    for k in range(max(1, len(rows) // batch)):
        group = rows[k * batch : (k + 1) * batch]
        shape = [len(group), 1]
        cols = {n: [r[n] for r in group] for n, _ in parts}
        doc = {"inputs": [{"name": n, "shape": shape, "datatype": d, "data": cols[n]} for n, d in parts]}
        body = orjson.dumps(doc)
        out["rest_json"].append(_http(body, "application/json"))
        raws = [tensors.encode(d, cols[n]) for n, d in parts]
        binary = {
            "inputs": [
                {"name": n, "shape": shape, "datatype": d, "parameters": {"binary_data_size": len(r)}}
                for (n, d), r in zip(parts, raws, strict=True)
            ],
            "parameters": {"binary_data_output": True},
        }
        head = orjson.dumps(binary)
        extra = f"Inference-Header-Content-Length: {len(head)}\r\n"
        out["rest_binary"].append(_http(head + b"".join(raws), "application/octet-stream", extra))
        req = pb.ModelInferRequest(model_name="fraud")
        for (n, d), r in zip(parts, raws, strict=True):
            req.inputs.add(name=n, datatype=d, shape=shape)
            req.raw_input_contents.append(r)
        out["grpc"].append(req.SerializeToString())
    return out


def _http(body: bytes, ctype: str, extra: str = "") -> bytes:
    head = f"POST {PATH} HTTP/1.1\r\nHost: b\r\nContent-Type: {ctype}\r\n{extra}"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _rest_client(port: int, reqs: list[bytes], start: int, deadline: float, lat: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors, i = 0, start
    try:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            writer.write(reqs[i % len(reqs)])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE)
            await reader.readexactly(int(m.group(1)) if m else 0)
            lat.append(time.perf_counter() - t)
            errors += head[9:10] != b"2"
    finally:
        writer.close()
    return errors


async def _grpc_client(call: Any, reqs: list[bytes], start: int, deadline: float, lat: list[float]) -> int:
    errors, i = 0, start
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        try:
            await call(reqs[i % len(reqs)], timeout=10)
        except Exception:
            errors += 1
        i += 1
        lat.append(time.perf_counter() - t)
    return errors


def _load(protocol: str, port: int, reqs: list[bytes], conns: int, duration: float, out: Any) -> None:
    """One closed-loop load point (in its own process); puts its figures on ``out``."""

    async def run() -> tuple[float, int, list[float]]:
        lat: list[float] = []
        channel = None
        if protocol == "grpc":
            import grpc

            channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
            call: Any = channel.unary_unary("/inference.GRPCInferenceService/ModelInfer")
            await call(reqs[0])  # connect first
        t0 = time.perf_counter()
        deadline = t0 + duration
        if protocol == "grpc":
            errs = await asyncio.gather(
                *(_grpc_client(call, reqs, k * 7, deadline, lat) for k in range(conns))
            )
        else:
            errs = await asyncio.gather(
                *(_rest_client(port, reqs, k * 7, deadline, lat) for k in range(conns))
            )
        elapsed = time.perf_counter() - t0
        if channel is not None:
            await channel.close()
        return elapsed, sum(errs), lat

    import uvloop

    elapsed, errors, lat = uvloop.run(run())
    arr = np.array(lat) * 1e6
    out.put(
        {
            "rps": len(lat) / elapsed,
            "p50_us": float(np.median(arr)),
            "p99_us": float(np.percentile(arr, 99)),
            "errors": errors,
        }
    )


def measure(protocol: str, port: int, reqs: list[bytes], conns: int, duration: float) -> dict[str, float]:
    """Run one load point in a fresh process (spawned: no state shared with this one)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_load, args=(protocol, port, reqs, conns, duration, q))
    p.start()
    result: dict[str, float] = q.get(timeout=duration + 120)
    p.join(30)
    return result


def codec_costs(bundle: Any, reqs: dict[str, list[bytes]], reps: int) -> dict[str, float]:
    """In-process µs per request for each protocol's own work, no transport: decoding the
    request into a validated batch and encoding the answer (best of 5 repeats of ``reps`` calls)."""
    import timeit

    from shopml.kinds import get_kind
    from shopml.serve.codec import InputCodec
    from shopml.serve.grpc import oip_pb2 as pb
    from shopml.serve.grpc.wire import decode_request, encode_response
    from shopml.serve.protocol import decode_infer, encode_binary

    codec = InputCodec(bundle)
    head = get_kind(bundle.meta.kind).head(bundle.meta.model_dump(by_alias=True))
    rows = orjson.loads(reqs["rest_json"][0].partition(b"\r\n\r\n")[2])["inputs"][0]["shape"][0]
    scores = np.full(rows, 0.25, dtype=np.float32)
    json_body = reqs["rest_json"][0].partition(b"\r\n\r\n")[2]
    binary_req = reqs["rest_binary"][0]
    size = re.search(rb"Inference-Header-Content-Length: (\d+)", binary_req)
    binary_body, header = binary_req.partition(b"\r\n\r\n")[2], size.group(1) if size else None
    grpc_body = reqs["grpc"][0]

    def rest_json() -> None:
        req = decode_infer(json_body, codec, None, head.names)
        head.encode_v2("fraud", 1, "r", scores, req.outputs)

    def rest_binary() -> None:
        req = decode_infer(binary_body, codec, None, head.names, header)
        encode_binary(head.encode_v2("fraud", 1, "r", scores, req.outputs), req.binary)

    def grpc() -> None:
        req = decode_request(pb.ModelInferRequest.FromString(grpc_body), codec, None, head.names)
        encode_response(head.encode_v2("fraud", 1, "r", scores, req.outputs)).SerializeToString()

    fns = {"rest_json": rest_json, "rest_binary": rest_binary, "grpc": grpc}
    return {p: min(timeit.repeat(fn, number=reps, repeat=5)) / reps * 1e6 for p, fn in fns.items()}


def _check(port: int, grpc_port: int, reqs: dict[str, list[bytes]]) -> None:
    """The three protocols answer the same score for the same row (before anything is timed)."""
    import grpc

    from shopml.serve import tensors
    from shopml.serve.grpc import oip_pb2 as pb

    scores = []
    for protocol in ("rest_json", "rest_binary"):
        head, _, body = reqs[protocol][0].partition(b"\r\n\r\n")
        headers = dict(h.split(": ", 1) for h in head.decode().split("\r\n")[1:])
        headers.pop("Content-Length")
        r = httpx.post(f"http://127.0.0.1:{port}{PATH}", content=body, headers=headers)
        r.raise_for_status()
        size = int(r.headers.get("inference-header-content-length", len(r.content)))
        doc = orjson.loads(r.content[:size])
        out = doc["outputs"][0]
        scores.append(
            out["data"][0] if "data" in out else tensors.decode("FP32", r.content[size : size + 4], 1)[0]
        )
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as ch:
        call = ch.unary_unary(
            "/inference.GRPCInferenceService/ModelInfer",
            response_deserializer=pb.ModelInferResponse.FromString,
        )
        resp = call(reqs["grpc"][0])
        scores.append(tensors.decode("FP32", resp.raw_output_contents[0][:4], 1)[0])
    if not np.allclose(scores, scores[0], rtol=1e-6):
        raise RuntimeError(f"the protocols disagree on the same row: {scores}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="2-second points, 1 round, smaller model (smoke test)"
    )
    ap.add_argument("--duration", type=float, default=None, help="seconds per load point [5; quick 2]")
    ap.add_argument(
        "--rounds", type=int, default=None, help="rounds over the three protocols; medians [3; quick 1]"
    )
    ap.add_argument("--batch", type=int, default=1, help="rows per request [1]")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 5.0)
    rounds = args.rounds or (1 if args.quick else 3)
    load = os.getloadavg()
    print(
        f"{duration:.0f} s per point, {rounds} round(s), {args.batch} row(s) per request;"
        f" load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="shopml-bench-protocols-"))
    proc = None
    try:
        from shopml.config import Workspace
        from shopml.registry import Registry

        fm = make_bundle(
            tmp / "bundle", n_trees=50 if args.quick else 300, depth=6, n_rows=3000 if args.quick else 20000
        )
        n_rows = max(200, args.batch)
        rows = [r for r in make_rows(n_rows + n_rows // 5 + 20, seed=3)[0] if r["amount_avg_30d"] is not None]
        rows = rows[:n_rows]
        ws = tmp / "ws"
        Registry(Workspace(ws)).register(fm.bundle.path, params={}, metrics={})
        port, grpc_port = _port(), _port()
        cmd = [str(Path(sys.executable).parent / "shopml"), "serve", "--workspace", str(ws)]
        cmd += ["--port", str(port), "--grpc-port", str(grpc_port), "--workers", "1"]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "SHOPML_SERVE__EVENT_TIME_WINDOW_S": "0"}
        proc = _start(cmd, env, f"http://127.0.0.1:{port}/v2/health/ready", tmp / "serve.log")
        meta = httpx.get(f"http://127.0.0.1:{port}/v2/models/fraud").json()
        reqs = requests(meta, rows, args.batch)
        _check(port, grpc_port, reqs)
        costs = codec_costs(fm.bundle, reqs, max(5, (200 if args.quick else 2000) // args.batch))
        print(
            "in-process decode + encode per request (µs): "
            + ", ".join(f"{p}={v:.0f}" for p, v in costs.items())
        )
        ports = {"rest_json": port, "rest_binary": port, "grpc": grpc_port}
        for p in PROTOCOLS:  # warm-up
            measure(p, ports[p], reqs[p], 8, min(1.0, duration))
        runs: dict[str, dict[int, list[dict[str, float]]]] = {p: {1: [], 32: []} for p in PROTOCOLS}
        for r in range(rounds):
            order = PROTOCOLS[r % 3 :] + PROTOCOLS[: r % 3]
            for c in (1, 32):
                for p in order:
                    runs[p][c].append(measure(p, ports[p], reqs[p], c, duration))
        report = _report(runs) | {"codec_us": costs}
        report |= {"duration_s": duration, "rounds": rounds, "loadavg": [load, os.getloadavg()]}
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2))
        return report
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the group this benchmark started
            proc.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)


def _report(runs: dict[str, dict[int, list[dict[str, float]]]]) -> dict[str, Any]:
    """Medians per protocol and point, printed with their ratios to REST JSON."""
    med: dict[str, dict[str, float]] = {}
    for p, points in runs.items():
        med[p] = {
            "c1_p50_us": float(np.median([x["p50_us"] for x in points[1]])),
            "c1_p99_us": float(np.median([x["p99_us"] for x in points[1]])),
            "c32_rps": float(np.median([x["rps"] for x in points[32]])),
            "c32_p99_us": float(np.median([x["p99_us"] for x in points[32]])),
            "errors": float(sum(x["errors"] for pt in points.values() for x in pt)),
        }
    base = med["rest_json"]
    print(
        "| protocol | c=1 p50 | c=1 p99 | c=32 req/s | c=32 p99 | c=1 p50 vs JSON | c=32 req/s vs JSON"
        " | errors |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p, m in med.items():
        m["c1_p50_ratio"] = m["c1_p50_us"] / base["c1_p50_us"]
        m["c32_rps_ratio"] = m["c32_rps"] / base["c32_rps"]
        print(
            f"| {p} | {m['c1_p50_us']:.0f} µs | {m['c1_p99_us']:.0f} µs | {m['c32_rps']:,.0f} |"
            f" {m['c32_p99_us'] / 1000:.1f} ms | {m['c1_p50_ratio']:.2f}× | {m['c32_rps_ratio']:.2f}× |"
            f" {m['errors']:.0f} |"
        )
    return {"medians": med, "runs": runs}


if __name__ == "__main__":
    main()
