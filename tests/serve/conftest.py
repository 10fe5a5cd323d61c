"""Serve fixtures: contract bundles trained here, a real registry, a real uvicorn server on a free port."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.serve_fixture import FixtureModel, make_bundle, make_rows  # noqa: E402

from shopml.config import Settings, Workspace  # noqa: E402
from shopml.config.settings import ServeSettings  # noqa: E402
from shopml.registry import Registry  # noqa: E402
from shopml.serve import ServeApp, build_app  # noqa: E402
from shopml.serve.server import uvicorn_limits  # noqa: E402

TOKEN = "s3cret-token"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[int, FixtureModel]:
    """Two versions of a fraud model (different seeds), trained and exported once per session."""
    root = tmp_path_factory.mktemp("bundles")
    return {v: make_bundle(root / f"v{v}", seed=v, n_trees=20 + 10 * v) for v in (1, 2)}


@pytest.fixture(scope="session")
def rows() -> list[dict[str, Any]]:
    """Fifty valid request rows (with id and event time)."""
    return make_rows(50, seed=7)[0]


def make_registry(root: Path, models: dict[int, FixtureModel], versions: int = 1) -> Registry:
    """A workspace registry holding the first ``versions`` fixture versions (v1 champion)."""
    reg = Registry(Workspace(root))
    for v in range(1, versions + 1):
        reg.register(models[v].bundle.path, params={}, metrics={})
    return reg


@dataclass
class Running:
    """A server running in a thread of this process."""

    url: str
    app: ServeApp
    settings: Settings
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        """Graceful stop (lifespan shutdown flushes the prediction log)."""
        self.server.should_exit = True
        self.thread.join(30)


def run_uvicorn(
    app: Any, http: Any, *, lifespan: str = "on", log_level: str = "warning", **options: Any
) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Run ``app`` on uvicorn (uvloop, protocol ``http``, other uvicorn ``options``) in a thread on a free
    loopback port; wait until it listens. Returns its URL, the server (set ``should_exit`` to stop) and
    the thread."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http=http,
        lifespan=lifespan,
        log_level=log_level,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server, thread


def start_server(settings: Settings, registry: Registry, *, poll: bool = True) -> Running:
    """Start ``build_app`` on uvicorn (uvloop + httptools, serve's protocol and limits) on a free port;
    wait for it."""
    app = build_app(settings, registry, poll=poll)
    options = uvicorn_limits(settings)
    url, server, thread = run_uvicorn(app, options.pop("http"), **options)
    return Running(url, app, settings, server, thread)


def serve_settings(ws: Path, **serve: Any) -> Settings:
    """Settings for a test server: fast polling and flushing, admin token on."""
    base: dict[str, Any] = {"poll_interval_s": 0.2, "log_flush_interval_s": 0.2, "admin_token": TOKEN}
    return Settings(workspace=ws, serve=ServeSettings(**{**base, **serve}))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, models: dict[int, FixtureModel]) -> Iterator[Running]:
    """One server per test module over a registry with fraud v1 as champion."""
    ws = tmp_path_factory.mktemp("ws")
    reg = make_registry(ws, models)
    run = start_server(serve_settings(ws, max_body_bytes=64 * 1024), reg)
    yield run
    run.stop()
