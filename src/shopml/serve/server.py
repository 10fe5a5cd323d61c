"""Assemble the app from settings and run it on uvicorn (uvloop + httptools), one or several workers.

Responses go out through :class:`~shopml.serve.http.CoalescingHttpToolsProtocol` (head and body in one
write) unless ``serve.coalesce_writes`` is off.

Several workers share one port (uvicorn's supervisor); each worker builds its own app from the
environment (``create_app`` is the uvicorn factory), loads the champions from the registry and writes
its own prediction-log files. With ``workers > 1`` metrics use prometheus_client's multiprocess mode
(see :mod:`shopml.serve.metrics`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from importlib.machinery import ModuleSpec
from pathlib import Path

from shopml.config import Settings, Workspace, load_settings
from shopml.serve.app import ServeApp
from shopml.serve.metrics import ServeMetrics
from shopml.serve.predlog import PredictionLog
from shopml.serve.repository import ModelRepository, ModelSource

__all__ = ["build_app", "create_app", "run"]

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"


def build_app(settings: Settings, source: ModelSource | None = None, *, poll: bool = True) -> ServeApp:
    """The ASGI app for ``settings``; ``source`` defaults to the workspace registry."""
    if source is None:
        from shopml.registry import Registry

        registry: ModelSource = Registry.from_settings(settings)
        source = registry
    metrics = ServeMetrics()
    s = settings.serve
    plog = None
    if s.log_predictions:
        root = Workspace(settings.workspace).predictions_dir
        plog = PredictionLog(
            root, metrics, flush_interval_s=s.log_flush_interval_s, max_backlog_rows=s.log_max_backlog_rows
        )
    return ServeApp(ModelRepository(source, s, metrics), s, metrics, plog, poll=poll)


def create_app() -> ServeApp:
    """uvicorn factory: settings from ``SHOPML_*`` (the CLI exports what its flags set)."""
    return build_app(load_settings())


def run(settings: Settings, *, host: str, port: int, workers: int, config: Path | None = None) -> None:
    """Serve until SIGTERM/SIGINT; shutdown drains in-flight requests and flushes the prediction log."""
    import uvicorn

    from shopml.serve.http import CoalescingHttpToolsProtocol

    os.environ["SHOPML_WORKSPACE"] = str(Path(settings.workspace).resolve())
    if config is not None:
        os.environ["SHOPML_CONFIG"] = str(Path(config).resolve())
    prom_dir = None
    main = sys.modules["__main__"]
    main_spec = getattr(main, "__spec__", None)
    if workers > 1:
        prom_dir = tempfile.mkdtemp(prefix="shopml-prometheus-")
        os.environ[_MULTIPROC] = prom_dir
        # uvicorn starts workers with multiprocessing "spawn", which re-runs the parent's main script in
        # every worker (here: the whole CLI, ~seconds of imports). A main module named "*.__main__" is
        # skipped by spawn, so workers import only what the app factory needs.
        main.__spec__ = ModuleSpec("shopml.serve.__main__", None)
    try:
        uvicorn.run(
            "shopml.serve.server:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http=CoalescingHttpToolsProtocol if settings.serve.coalesce_writes else "httptools",
            lifespan="on",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=30,
        )
    finally:
        main.__spec__ = main_spec
        if prom_dir is not None:
            shutil.rmtree(prom_dir, ignore_errors=True)
            os.environ.pop(_MULTIPROC, None)
