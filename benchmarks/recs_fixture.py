"""A servable recommender bundle from a :class:`shopml.recs.model.GRURec`, for serving tests and benchmarks.

The bundle is what ``shopml train --task recs`` publishes (kind ``ranking``, ONNX inputs ``items`` and
``lengths``, ``items``, ``top_k``, ``popular``, ``max_session_length`` in ``bundle.json``), written
without the training run's report and metrics.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from shopml.recs.bundle import MAX_SESSION
from shopml.recs.export import check_parity, export_onnx
from shopml.registry import Registry
from shopml.registry.bundle import BundleMeta, ModelBundle, write_bundle

__all__ = ["LocalServer", "random_sessions", "write_recs_bundle"]


def random_sessions(n_items: int, n: int, length: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sessions of ``length`` items (the ONNX inputs ``items``, ``lengths``)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_items, (n, length), dtype=np.int64), np.full(n, length, np.int64)


def write_recs_bundle(
    path: Path, model: Any, items: list[str], popular: list[str], *, k: int = 20, name: str = "recs"
) -> ModelBundle:
    """Export ``model`` (parity-checked on random sessions) and write a ranking bundle at ``path``."""
    raw = export_onnx(model)
    x, lengths = random_sessions(len(items), 16, 5)
    parity = check_parity(raw, model, x, lengths, k=min(k, len(items)))
    meta = BundleMeta.model_validate(
        {
            "name": name,
            "task": "recs",
            "kind": "ranking",
            "schema": {"features": [{"name": "session", "kind": "text"}]},
            "inputs": ["items", "lengths"],
            "score_output": "scores",
            "target": "next_item",
            "metrics": {},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "items": items,
            "top_k": k,
            "popular": popular,
            "max_session_length": MAX_SESSION,
            "parity": parity.to_dict(),
        }
    )
    return write_bundle(path, meta, raw)


class LocalServer:
    """``build_app`` on uvicorn in a thread of this process (``serve``: :class:`ServeSettings` fields, e.g.
    ``grpc_port`` for gRPC beside REST); ``stop`` flushes the prediction log."""

    def __init__(self, ws: Path, registry: Registry, **serve: Any) -> None:
        import uvicorn

        from shopml.config import Settings
        from shopml.config.settings import ServeSettings
        from shopml.serve import build_app
        from shopml.serve.server import uvicorn_limits

        base = {"poll_interval_s": 0.2, "log_flush_interval_s": 0.2, **serve}
        settings = Settings(workspace=ws, serve=ServeSettings(**base))
        self.app = build_app(settings, registry, poll=False)
        options = uvicorn_limits(settings)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        http = options.pop("http")
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, loop="uvloop", http=http, log_level="warning", **options
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        self.workspace = ws
        self.workspace = ws

    def stop(self) -> None:
        """Graceful stop: the prediction log is flushed."""
        self.server.should_exit = True
        self.thread.join(30)
