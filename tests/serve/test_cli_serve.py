"""``shopml serve`` as a real subprocess with two workers: metrics add up, SIGTERM loses no prediction."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from benchmarks.serve_fixture import FixtureModel
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.serve.metrics import FLUSH_INTERVAL_S

from .conftest import free_port, make_registry

_V1_COUNT = r'shopml_requests_total\{endpoint="v1_predict",model="fraud",status="200",version="1"\} (\S+)'


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
    cmd = [str(Path(sys.executable).parent / "shopml"), "serve", "--port", str(port), "--workers", "2"]
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


def test_serve_help() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--workers" in result.output and "--workspace" in result.output
