"""Hot swap under load: a promoted version takes over with zero failed requests; every answer is logged."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import numpy as np
from benchmarks.serve_fixture import FixtureModel

from shopml.config import Workspace
from shopml.registry import Registry

from .conftest import TOKEN, make_registry, serve_settings, start_server


async def _load(
    url: str, rows: list[dict[str, Any]], seconds: float, clients: int, promote: Any
) -> list[tuple[int, Any]]:
    """``clients`` keep-alive clients; the first 50 answers start ``promote`` (in a thread), and the load
    goes on for ``seconds`` after it returned: the swap happens under load however busy the machine."""
    results: list[tuple[int, Any]] = []
    started: list[asyncio.Task[Any]] = []
    deadline = [time.monotonic() + 60.0]

    async def one(c: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            i = c
            while time.monotonic() < deadline[0]:
                row = rows[i % len(rows)]
                r = await client.post("/v1/models/fraud/predict", json={"instances": [row]})
                results.append((r.status_code, (i % len(rows), r.json())))
                i += clients
                if len(results) >= 50 and not started:
                    task = asyncio.create_task(asyncio.to_thread(promote))
                    task.add_done_callback(lambda _: deadline.__setitem__(0, time.monotonic() + seconds))
                    started.append(task)

    await asyncio.gather(*(one(c) for c in range(clients)))
    await asyncio.gather(*started)
    return results


def test_promotion_swaps_under_load_without_failures(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    ws = tmp_path / "ws"
    make_registry(ws, models, versions=2)  # v1 champion, v2 challenger
    run = start_server(serve_settings(ws), Registry(Workspace(ws)))
    try:
        promote = lambda: Registry(Workspace(ws)).promote("fraud", 2, reason="test")  # noqa: E731
        results = asyncio.run(_load(run.url, rows, seconds=3.0, clients=12, promote=promote))
    finally:
        run.stop()
    statuses = [s for s, _ in results]
    assert statuses.count(200) == len(statuses) > 100, {s: statuses.count(s) for s in set(statuses)}
    versions = [body["model_version"] for _, (_, body) in results]
    assert 1 in versions and versions[-20:] == [2] * 20
    refs = {v: models[v].reference_scores(rows) for v in (1, 2)}
    for _, (i, body) in results:
        assert abs(body["predictions"][0]["score"] - refs[body["model_version"]][i]) < 1e-5
    logged = duckdb.execute(
        f"select model_version, count(*) from read_parquet('{ws}/logs/predictions/**/*.parquet') group by 1"
    ).fetchall()
    assert dict(logged) == {v: versions.count(v) for v in set(versions)}


def test_admin_load_swaps_at_once_and_unload_stops_serving(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    ws = tmp_path / "ws"
    reg = make_registry(ws, models, versions=2)
    run = start_server(serve_settings(ws), reg, poll=False)
    auth = {"authorization": f"Bearer {TOKEN}"}
    try:
        reg.promote("fraud", 2)
        r = httpx.post(f"{run.url}/v2/repository/models/fraud/load", headers=auth)
        assert r.json() == {"name": "fraud", "version": 2, "state": "READY"}
        pred = httpx.post(f"{run.url}/v1/models/fraud/predict", json={"instances": rows[:3]}).json()
        np.testing.assert_allclose(
            [p["score"] for p in pred["predictions"]], models[2].reference_scores(rows[:3]), atol=1e-5
        )
        assert httpx.post(f"{run.url}/v2/repository/models/fraud/unload", headers=auth).status_code == 200
        gone = httpx.post(f"{run.url}/v1/models/fraud/predict", json={"instances": rows[:1]})
        assert gone.status_code == 503 and "unloaded" in gone.json()["error"]
        assert httpx.get(f"{run.url}/v2/models/fraud/ready").status_code == 503
        httpx.post(f"{run.url}/v2/repository/models/fraud/load", headers=auth)
        assert (
            httpx.post(f"{run.url}/v1/models/fraud/predict", json={"instances": rows[:1]}).status_code == 200
        )
    finally:
        run.stop()


def test_admin_endpoints_off_without_token_and_cache_serves_new_version_fresh(
    tmp_path: Path, models: dict[int, FixtureModel], rows: list[dict[str, Any]]
) -> None:
    ws = tmp_path / "ws"
    reg = make_registry(ws, models, versions=2)
    run = start_server(serve_settings(ws, admin_token=None, cache_size=100, cache_models=["fraud"]), reg)
    try:
        r = httpx.post(f"{run.url}/v2/repository/models/fraud/load")
        assert r.status_code == 403 and "serve.admin_token" in r.json()["error"]
        body = {"instances": rows[:2]}
        first = httpx.post(f"{run.url}/v1/models/fraud/predict", json=body).json()
        again = httpx.post(f"{run.url}/v1/models/fraud/predict", json=body).json()
        assert again["predictions"][0]["score"] == first["predictions"][0]["score"]
        metrics = httpx.get(f"{run.url}/metrics").text
        assert 'shopml_cache_total{model="fraud",result="hit"} 1.0' in metrics
        reg.promote("fraud", 2)
        deadline = time.monotonic() + 10
        while httpx.post(f"{run.url}/v1/models/fraud/predict", json=body).json()["model_version"] != 2:
            assert time.monotonic() < deadline, "champion move not picked up by polling"
            time.sleep(0.1)
        fresh = httpx.post(f"{run.url}/v1/models/fraud/predict", json=body).json()
        np.testing.assert_allclose(
            [p["score"] for p in fresh["predictions"]], models[2].reference_scores(rows[:2]), atol=1e-5
        )
    finally:
        run.stop()


class _CountingRegistry:
    """The real registry, counting the full ``list_models`` queries the poller makes."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.tracking_uri = registry.tracking_uri
        self.queries = 0

    def list_models(self) -> Any:
        self.queries += 1
        return self.registry.list_models()

    def load_bundle(self, name: str, ref: str | int = "champion") -> Any:
        return self.registry.load_bundle(name, ref)


def test_poller_queries_the_registry_only_when_its_database_changed(
    tmp_path: Path, models: dict[int, FixtureModel]
) -> None:
    from shopml.config.settings import ServeSettings
    from shopml.serve import ServeMetrics
    from shopml.serve.repository import ModelRepository

    ws = tmp_path / "ws"
    source = _CountingRegistry(make_registry(ws, models, versions=2))
    repo = ModelRepository(source, ServeSettings(poll_interval_s=0.02), ServeMetrics())

    async def main() -> tuple[int, int, float]:
        await asyncio.to_thread(repo.load_all)
        poller = asyncio.create_task(repo.poll_forever())
        await asyncio.sleep(0.5)  # ~25 polls of an unchanged registry
        idle_queries = source.queries
        await asyncio.to_thread(Registry(Workspace(ws)).promote, "fraud", 2, "test")
        t = time.monotonic()
        while repo.models["fraud"].version != 2 and time.monotonic() - t < 10:
            await asyncio.sleep(0.01)
        poller.cancel()
        return idle_queries, repo.models["fraud"].version, time.monotonic() - t

    idle_queries, version, took = asyncio.run(main())
    assert idle_queries == 2  # load_all, then the first poll's full check
    assert version == 2 and took < 5
