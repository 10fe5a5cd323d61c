"""The data plane without any transport: predict, record, readiness, metadata and admin in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from benchmarks.serve_fixture import FixtureModel

from shopml.config import Workspace
from shopml.errors import ForbiddenError, NotFoundError, NotReadyError, UnauthorizedError
from shopml.logstore import LogWriter
from shopml.registry import Registry
from shopml.serve import DataPlane, ModelRepository, ServeMetrics
from shopml.serve.admin import AdminState

from .conftest import TOKEN, make_registry, serve_settings


def _plane(
    ws: Path,
    models: dict[int, FixtureModel],
    *,
    poll: bool = False,
    registry: Registry | None = None,
    **serve: Any,
) -> DataPlane:
    """A data plane over a workspace registry (``registry``, else a new one holding fraud v1): what one
    server worker builds, without HTTP."""
    settings = serve_settings(ws, **serve)
    metrics = ServeMetrics()
    plog = LogWriter(Workspace(ws).predictions_dir, metrics, flush_interval_s=0.2)
    admin = AdminState(Workspace(ws).registry_dir / "serve-admin.json")
    source = registry if registry is not None else make_registry(ws, models)
    repo = ModelRepository(source, settings.serve, metrics, admin)
    return DataPlane(repo, settings.serve, metrics, plog, poll=poll)


def test_predict_record_and_metadata(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    plane = _plane(tmp_path, models)

    async def run() -> list[Any]:
        with pytest.raises(NotReadyError, match="still loading"):
            plane.check_ready()
        await plane.startup()
        plane.check_ready()
        served = plane.acquire("fraud")
        try:
            enc = served.codec.encode_rows(rows[:3])
            lone = await plane.predict(served, enc, "r1", lone=True)
            queued = await plane.predict(served, served.codec.encode_rows(rows[:1]), "r2")
        finally:
            plane.release(served)
        plane.record(lone, 0.001)
        plane.record(queued, 0.001)
        await plane.shutdown()
        return [lone, queued]

    lone, queued = asyncio.run(run())
    assert lone.ids == ["r1-0", "r1-1", "r1-2"] and queued.ids == ["r2"]
    np.testing.assert_allclose(lone.scores, models[1].reference_scores(rows[:3]), atol=1e-5)
    ids = duckdb.execute(
        f"select request_id from read_parquet('{tmp_path}/logs/predictions/**/*.parquet') order by 1"
    ).fetchall()
    assert [i for (i,) in ids] == ["r1-0", "r1-1", "r1-2", "r2"]
    meta = plane.model_metadata("fraud")
    assert meta["versions"] == ["1"] and {o["name"] for o in meta["outputs"]} == {"score", "decision"}
    assert plane.model_ready("fraud") is True
    with pytest.raises(NotFoundError, match="'nope' is not served"):
        plane.model_ready("nope")


def test_admin_token_and_unload(tmp_path: Path, models: dict[int, FixtureModel]) -> None:
    plane = _plane(tmp_path, models)

    async def run() -> None:
        await plane.startup()
        with pytest.raises(UnauthorizedError, match="wrong bearer token"):
            plane.check_admin("other")
        plane.check_admin(TOKEN)
        assert plane.unload("fraud")["state"] == "UNLOADED"
        with pytest.raises(NotReadyError, match="was unloaded"):
            plane.acquire("fraud")
        assert (await plane.load("fraud"))["version"] == 1
        assert plane.index() == [{"name": "fraud", "version": "1", "state": "READY"}]
        await plane.shutdown()

    asyncio.run(run())
    with pytest.raises(ForbiddenError, match="admin_token"):
        _plane(tmp_path / "off", models, admin_token=None).check_admin(TOKEN)


def test_admin_unload_reaches_every_worker_and_survives_a_restart(
    tmp_path: Path, models: dict[int, FixtureModel]
) -> None:
    registry = make_registry(tmp_path, models)
    workers = [_plane(tmp_path, models, poll=True, registry=registry) for _ in range(2)]

    async def until(check: Any) -> None:
        for _ in range(100):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("not reached within 5 s")

    async def run() -> None:
        for w in workers:
            await w.startup()
        a, b = workers
        a.unload("fraud")  # answered by worker a only
        await until(lambda: not b.model_ready("fraud"))
        with pytest.raises(NotReadyError, match="was unloaded"):
            b.acquire("fraud")
        restarted = _plane(tmp_path, models, registry=registry)
        await restarted.startup()
        assert not restarted.model_ready("fraud") and restarted.index() == []
        await restarted.shutdown()
        await b.load("fraud")  # loaded again through worker b
        await until(lambda: a.model_ready("fraud"))
        for w in workers:
            await w.shutdown()

    asyncio.run(run())
