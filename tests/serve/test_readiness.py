"""Readiness that tells the truth: one unreadable model is unavailable while the others serve; a
prediction log that cannot be written makes the server unready (when the setting says so)."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
from benchmarks.serve_fixture import FixtureModel

from shopml.config import Workspace
from shopml.registry import Registry

from .conftest import TOKEN, make_registry, serve_settings, start_server


def _second_model(tmp_path: Path, models: dict[int, FixtureModel], registry: Registry) -> None:
    """Register fraud v1's bundle again as model 'returns', then make its cached bundle unreadable."""
    copy = tmp_path / "returns-bundle"
    shutil.copytree(models[1].bundle.path, copy)
    meta = json.loads((copy / "bundle.json").read_text())
    (copy / "bundle.json").write_text(json.dumps({**meta, "name": "returns"}))
    registry.register(copy, params={}, metrics={})
    cached = registry.load_bundle("returns").path / "bundle.json"
    cached.unlink()
    cached.mkdir()  # reading it now raises IsADirectoryError (an OSError), even as root


def test_an_unreadable_bundle_fails_only_its_model(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    registry = make_registry(tmp_path, models)
    _second_model(tmp_path, models, registry)
    run = start_server(serve_settings(tmp_path), Registry(Workspace(tmp_path)))
    try:
        r = httpx.post(f"{run.url}/v1/models/fraud/predict", json={"instances": rows[:1]})
        assert r.status_code == 200
        down = httpx.post(f"{run.url}/v1/models/returns/predict", json={"instances": rows[:1]})
        assert down.status_code == 503 and "IsADirectoryError" in down.json()["error"]
        ready = httpx.get(f"{run.url}/v2/health/ready")
        assert ready.status_code == 503 and "'returns'" in ready.json()["error"]
        not_ready = httpx.get(f"{run.url}/v2/models/returns/ready")
        assert not_ready.status_code == 503
        assert not_ready.json()["name"] == "returns" and not_ready.json()["ready"] is False
        assert httpx.get(f"{run.url}/v2/models/fraud/ready").json()["ready"] is True
        index = httpx.post(
            f"{run.url}/v2/repository/index", headers={"authorization": f"Bearer {TOKEN}"}
        ).json()
        assert {m["name"]: m["state"] for m in index} == {"fraud": "READY", "returns": "UNAVAILABLE"}
    finally:
        run.stop()


def _ready_after_a_failed_write(ws: Path, models: dict[int, FixtureModel], rows: Any, **serve: Any) -> int:
    make_registry(ws, models)
    predictions = Workspace(ws).predictions_dir
    predictions.parent.mkdir(parents=True, exist_ok=True)
    predictions.write_text("not a folder")  # every log write fails
    run = start_server(serve_settings(ws, **serve), Registry(Workspace(ws)))
    try:
        assert httpx.get(f"{run.url}/v2/health/ready").status_code == 200
        r = httpx.post(f"{run.url}/v1/models/fraud/predict", json={"instances": rows[:3]})
        assert r.status_code == 200
        for _ in range(50):
            status = httpx.get(f"{run.url}/v2/health/ready").status_code
            if status != 200:
                return status
            time.sleep(0.1)
        return 200
    finally:
        run.stop()


def test_a_failing_prediction_log_makes_the_server_unready(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    assert _ready_after_a_failed_write(tmp_path / "strict", models, rows) == 503
    assert _ready_after_a_failed_write(tmp_path / "lax", models, rows, ready_requires_log=False) == 200
