"""``run_monitor`` repeated in one process: caches give the same reports; the traffic block; no HTML."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from shopml.cli.main import app
from shopml.logstore import PredictionLog
from shopml.monitor import ingest_labels, run_monitor, write_predictions
from shopml.monitor.cache import WINDOWS, clear_caches
from shopml.monitor.performance.traffic import window_traffic
from shopml.registry import ModelBundle

START = datetime(2026, 3, 1, tzinfo=UTC)  # as in conftest
Synth = Callable[..., tuple[pa.Table, pa.Table]]


@pytest.fixture
def world(workspace: Path, synth: Synth, make_bundle: Callable[..., ModelBundle]) -> ModelBundle:
    preds, labels = synth(6_000, 20, seed=5, threshold=0.2)
    write_predictions(workspace, "fraud", preds)
    ingest_labels(workspace, "fraud", labels, label_column="is_fraud", id_column="transaction_id")
    return make_bundle(threshold=0.2, metrics={"pr_auc": 0.3})


def _report(workspace: Path, bundle: ModelBundle, day: int, cache: bool) -> dict[str, object]:
    now = START + timedelta(days=day)
    r = run_monitor(workspace, "fraud", "1d", now, bundle=bundle, history=10, write=False, cache=cache)
    return r.to_dict()


def test_cached_runs_equal_fresh_runs(workspace: Path, world: ModelBundle) -> None:
    clear_caches()
    cached = [_report(workspace, world, day, cache=True) for day in (14, 15, 16, 15)]
    assert len(WINDOWS) > 0
    hits_before = len(WINDOWS)
    again = _report(workspace, world, 16, cache=True)  # everything from the cache now
    assert len(WINDOWS) == hits_before
    fresh = [_report(workspace, world, day, cache=False) for day in (14, 15, 16, 15)]
    text = [json.dumps(r, sort_keys=True) for r in (*cached, again, *fresh)]  # NaN-safe comparison
    assert text[:4] == text[5:] and text[4] == text[7]
    assert text[1] == text[3]  # the same day twice, with another day in between


def test_traffic_block(workspace: Path, world: ModelBundle, synth: Synth) -> None:
    now = START + timedelta(days=10)
    report = run_monitor(workspace, "fraud", "1d", now, bundle=world, history=3, html=False).to_dict()
    log = PredictionLog(workspace, "fraud", time_column="event_time")
    day = log.read(now - timedelta(days=1), now, ["latency_ms", "model_version"])
    lat = day.column("latency_ms").to_numpy()
    traffic = report["traffic"]
    assert isinstance(traffic, dict) and report["version"] >= 2  # the traffic block since version 2
    assert traffic["requests"] == day.num_rows > 0
    assert traffic["latency_p50_ms"] == pytest.approx(np.quantile(lat, 0.5))
    assert traffic["latency_p99_ms"] == pytest.approx(np.quantile(lat, 0.99))
    assert traffic["by_version"] == {
        "1": {k: traffic[k] for k in ("requests", "latency_p50_ms", "latency_p99_ms")}
    }
    json.dumps(report)  # JSON-ready


def test_traffic_without_latency_and_empty_window(workspace: Path, synth: Synth) -> None:
    preds, _ = synth(500, 2, seed=7)
    write_predictions(
        workspace,
        "m",
        preds.drop_columns(["latency_ms"]).append_column(
            "latency_ms", pa.nulls(preds.num_rows, pa.float64())
        ),
    )
    log = PredictionLog(workspace, "m", time_column="event_time")
    t = window_traffic(log, START, START + timedelta(days=1))
    assert t["requests"] > 0 and t["latency_p50_ms"] is None and t["latency_p99_ms"] is None
    empty = window_traffic(log, START - timedelta(days=5), START - timedelta(days=4))
    assert empty == {"requests": 0, "latency_p50_ms": None, "latency_p99_ms": None, "by_version": {}}


def test_html_optional(workspace: Path, world: ModelBundle) -> None:
    now = START + timedelta(days=10)
    r = run_monitor(workspace, "fraud", "1d", now, bundle=world, history=3, html=False)
    assert r.json_path is not None and r.json_path.exists() and r.html_path is None
    assert not list(r.json_path.parent.glob("*.html"))


def test_cli_no_html_prints_traffic(workspace: Path, world: ModelBundle) -> None:
    now = (START + timedelta(days=10)).isoformat()
    args = ["monitor", "--model", "fraud", "--now", now, "--bundle", str(world.path), "--no-html"]
    res = CliRunner().invoke(app, [*args, "--workspace", str(workspace), "--history", "3"])
    assert res.exit_code == 0, res.output
    assert "traffic:" in res.output and "latency p50" in res.output and ".json" in res.output
    assert not list((workspace / "reports" / "monitor").glob("*.html"))
