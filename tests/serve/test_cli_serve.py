"""``shopml serve`` as a real subprocess with two workers: metrics add up, SIGTERM loses no prediction."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
from benchmarks.serve_fixture import FixtureModel
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.serve.grpc.client import OipClient
from shopml.serve.metrics import FLUSH_INTERVAL_S
from shopml.serve.server import BALANCED, ReusePortSocket

from .conftest import free_port, make_registry
from .test_grpc import build_request

_V1_COUNT = (
    r'shopml_requests_total\{endpoint="v1_predict",model="fraud",protocol="rest",status="200",version="1"\}'
    r" (\S+)"
)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"shopml serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"shopml serve did not become ready: {log.read_text()[-2000:]}")


def test_sigterm_flushes_every_answered_prediction(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    ws = tmp_path / "ws"
    make_registry(ws, models)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SHOPML_SERVE__LOG_FLUSH_INTERVAL_S": "30"}  # only shutdown can flush in time
    grpc_port = free_port()
    cmd = [str(Path(sys.executable).parent / "shopml"), "serve", "--port", str(port), "--workers", "2"]
    cmd += ["--grpc-port", str(grpc_port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*cmd, "--workspace", str(ws)], env=env, stderr=err, cwd=tmp_path, start_new_session=True
        )
    try:
        _wait_ready(url, proc, log)
        n = 0
        with httpx.Client(base_url=url) as client:
            for i in range(120):
                batch = rows[i % 40 : i % 40 + 1 + i % 3]
                r = client.post("/v1/models/fraud/predict", json={"instances": batch})
                assert r.status_code == 200, r.text
                n += len(batch)
            # Summed over both workers, whichever answers; a worker publishes its counts every
            # FLUSH_INTERVAL_S, so the other worker's may show up to that much later.
            deadline = time.monotonic() + 5 * FLUSH_INTERVAL_S
            while True:
                metrics = "".join(client.get("/metrics").text for _ in range(2))
                counts = re.findall(_V1_COUNT, metrics)
                if (counts and all(float(c) == 120 for c in counts)) or time.monotonic() > deadline:
                    break
                time.sleep(FLUSH_INTERVAL_S / 5)
        assert counts and all(float(c) == 120 for c in counts), counts
        n += _over_grpc(url, grpc_port, [r for r in rows if r["amount_avg_30d"] is not None][:10])
        if BALANCED:  # a burst of connections is spread over both workers (see shopml.serve.server)
            for _ in range(20):  # once both are up: readiness came from whichever started first
                per_worker = _burst(port, rows[0], 32)
                n += 32
                if len(per_worker) == 2 and min(per_worker.values()) >= 6:
                    break  # a loaded machine may hand one burst to one worker: try another
                time.sleep(1.0)
            assert len(per_worker) == 2 and min(per_worker.values()) >= 6, per_worker
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:  # the server and its workers are one process group, started here
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    logged = duckdb.execute(
        f"select count(*), count(distinct request_id) from '{ws}/logs/predictions/**/*.parquet'"
    )
    assert logged.fetchall() == [(n, n)]


def _over_grpc(url: str, port: int, rows: list[dict[str, Any]]) -> int:
    """One-row inferences over gRPC (both workers share the port); the rows answered."""
    meta = httpx.get(f"{url}/v2/models/fraud").json()
    parts = [(t["name"], t["datatype"]) for t in meta["inputs"]]
    parts += [(meta["parameters"][c], "BYTES") for c in ("id_column", "time_column")]
    client = OipClient(f"127.0.0.1:{port}")
    try:
        for row in rows:
            assert client.call("ModelInfer", build_request(parts, [row])).raw_output_contents
    finally:
        client.close()
    return len(rows)


def _burst(port: int, row: dict[str, Any], conns: int) -> Counter[str]:
    """Open ``conns`` connections at once, then send one request on each; answers per worker (the
    request id's prefix is per process)."""
    body = orjson.dumps({"instances": [row]})
    head = f"POST /v1/models/fraud/predict HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n"
    socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(conns)]
    workers: Counter[str] = Counter()
    try:
        for s in socks:
            s.sendall(head.encode() + body)
        for s in socks:
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(65536)
            assert data.startswith(b"HTTP/1.1 200"), data[:200]
            rid = re.search(rb"(?i)x-request-id: *([0-9a-f]+)-", data)
            assert rid is not None, data[:300]
            workers[rid.group(1).decode()] += 1
    finally:
        for s in socks:
            s.close()
    return workers


@pytest.mark.skipif(not BALANCED, reason="SO_REUSEPORT balancing is Linux-only")
def test_reuse_port_socket_reserves_the_port_and_becomes_a_listener_in_a_worker() -> None:
    with ReusePortSocket.bind_to("127.0.0.1", 0, 16) as held:
        port = held.getsockname()[1]
        assert held.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 0  # takes no connections
        with ForkingPickler.loads(ForkingPickler.dumps(held)) as worker:  # what a worker process gets
            assert type(worker) is socket.socket and worker.getsockname()[1] == port
            assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            assert worker.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                conn, _ = worker.accept()
                conn.close()


@pytest.mark.skipif(not BALANCED, reason="SO_REUSEPORT balancing is Linux-only")
def test_a_taken_port_is_a_clear_error_with_several_workers(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            app, ["serve", "--port", str(port), "--workers", "2", "--workspace", str(tmp_path / "ws")]
        )
    assert result.exit_code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.output, result.output


def test_serve_help() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--workers" in result.output and "--workspace" in result.output
