"""The demo's real-server helpers: start ``shopml serve`` as a child process, replay traffic over HTTP,
follow a hot swap, stop it gracefully with every prediction logged."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.serve_fixture import make_bundle, make_rows  # noqa: E402

from shopml.config import Workspace  # noqa: E402
from shopml.demo.replay import replay_table, to_instances  # noqa: E402
from shopml.demo.run import _wait_logged  # noqa: E402
from shopml.demo.server import ServerProcess  # noqa: E402
from shopml.monitor import PredictionLog  # noqa: E402
from shopml.registry import Registry  # noqa: E402


def test_to_instances_cleans_values() -> None:
    t = pa.table({"a": [1.0, float("nan")], "t": [datetime(2025, 1, 1, tzinfo=UTC)] * 2, "x": ["u", "v"]})
    assert to_instances(t, ["a", "t", "missing"]) == [
        {"a": 1.0, "t": "2025-01-01T00:00:00+00:00"},
        {"a": None, "t": "2025-01-01T00:00:00+00:00"},
    ]


@pytest.mark.timeout(240)
def test_serve_replay_swap_and_graceful_stop(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws").ensure()
    reg = Registry(ws)
    for v in (1, 2):
        reg.register(make_bundle(tmp_path / f"v{v}", seed=v, n_trees=10).bundle.path, params={}, metrics={})
    rows, _ = make_rows(300, seed=3)
    bad = [{**rows[0], "amount": "12,50"}]
    server = ServerProcess(ws.root, poll_interval_s=0.3)
    with server, httpx.Client(timeout=30) as client:
        assert server.served_version("fraud") == "1"
        stats = replay_table(client, server.url, "fraud", rows, batch_size=32, concurrency=4)
        assert (stats.requests, stats.instances, stats.failed) == (10, 300, 0)
        failed = replay_table(client, server.url, "fraud", bad)
        assert failed.failed == 1 and failed.errors[0].startswith("422")
        reg.promote("fraud", 2)
        assert server.wait_for_version("fraud", 2, timeout_s=30) >= 0
        log = PredictionLog(ws, "fraud", time_column="event_time")
        start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
        assert _wait_logged(log, start, end, 300) == 300
        replay_table(client, server.url, "fraud", rows[:100])
        # uvicorn drains, the writer flushes, then uvicorn re-raises SIGTERM: -15 is a graceful exit here
        assert server.stop() in (0, -15)
    assert PredictionLog(ws, "fraud", time_column="event_time").count(start, end) == 400
