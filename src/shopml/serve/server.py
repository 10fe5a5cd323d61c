"""Assemble the app from settings and run it on uvicorn (uvloop + httptools), one or several workers.

Responses go out through :class:`~shopml.serve.http.CoalescingHttpToolsProtocol` (head and body in one
write) unless ``serve.coalesce_writes`` is off.

Several workers share one port (uvicorn's supervisor restarts a worker that dies); each worker builds
its own app from the environment (``create_app`` is the uvicorn factory), loads the champions from the
registry and writes its own prediction-log files. On Linux every worker listens on its own
``SO_REUSEPORT`` socket (:class:`ReusePortSocket`), so that the kernel spreads connections evenly over
the workers; with uvicorn's one shared socket, whichever worker wakes first accepts a whole burst of
connections, and keep-alive clients then stay on it. With ``workers > 1`` metrics use
prometheus_client's multiprocess mode (see :mod:`shopml.serve.metrics`).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

from shopml.config import Settings, Workspace, load_settings
from shopml.errors import ConfigError
from shopml.logstore.writer import LogWriter
from shopml.serve.admin import AdminState
from shopml.serve.app import ServeApp
from shopml.serve.metrics import ServeMetrics
from shopml.serve.repository import ModelRepository, ModelSource

__all__ = ["ReusePortSocket", "build_app", "create_app", "listen_reuse_port", "run", "uvicorn_limits"]

_MULTIPROC = "PROMETHEUS_MULTIPROC_DIR"
BALANCED = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def _reuse_port_socket(family: int) -> socket.socket:
    # IPPROTO_TCP explicitly: accepted sockets inherit the listener's proto, and asyncio enables
    # TCP_NODELAY only when it says TCP.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def listen_reuse_port(family: int, host: str, port: int, backlog: int) -> socket.socket:
    """A listening ``SO_REUSEPORT`` socket on ``host:port`` (one per worker)."""
    sock = _reuse_port_socket(family)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class ReusePortSocket(socket.socket):
    """The supervisor's hold on ``host:port``: bound with ``SO_REUSEPORT`` but never listening, so it takes
    no connections. Handed to a worker process (pickled by multiprocessing), it arrives as that worker's
    own listening socket on the same address (:func:`listen_reuse_port`), and the kernel balances new
    connections over the workers' sockets by a hash of the connection's addresses."""

    backlog = 2048

    @classmethod
    def bind_to(cls, host: str, port: int, backlog: int) -> ReusePortSocket:
        """Bind ``host:port`` (port 0: a free port, then used by every worker); OSError if it is taken."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        base = _reuse_port_socket(family)
        sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=base.detach())
        sock.backlog = backlog
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        return sock

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        host, port = self.getsockname()[:2]
        return listen_reuse_port, (int(self.family), host, port, self.backlog)


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
        plog = LogWriter(
            root, metrics, flush_interval_s=s.log_flush_interval_s, max_backlog_rows=s.log_max_backlog_rows
        )
    admin = AdminState(Workspace(settings.workspace).registry_dir / "serve-admin.json")
    return ServeApp(ModelRepository(source, s, metrics, admin), s, metrics, plog, poll=poll)


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the edge settings: the connection limit (more: 503), the keep-alive idle
    timeout and the HTTP protocol with the header-read deadline (exported to the workers' environment)."""
    from shopml.serve.http import HEADER_TIMEOUT_ENV, CoalescingHttpToolsProtocol, GuardedHttpToolsProtocol

    s = settings.serve
    os.environ[HEADER_TIMEOUT_ENV] = str(s.header_timeout_s)
    return {
        "http": CoalescingHttpToolsProtocol if s.coalesce_writes else GuardedHttpToolsProtocol,
        "limit_concurrency": s.max_connections,
        "timeout_keep_alive": s.keep_alive_s,
    }


def create_app() -> ServeApp:
    """uvicorn factory: settings from ``SHOPML_*`` (the CLI exports what its flags set)."""
    return build_app(load_settings())


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    config: Path | None = None,
    grpc_port: int | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT; shutdown drains in-flight requests and flushes the prediction log.
    ``grpc_port`` (default ``serve.grpc_port``; 0: off) also serves OIP v2 over gRPC on ``host``."""
    import uvicorn

    os.environ["SHOPML_WORKSPACE"] = str(Path(settings.workspace).resolve())
    if grpc_port is not None or settings.serve.grpc_port:  # the workers' app factory reads these
        os.environ["SHOPML_SERVE__GRPC_PORT"] = str(
            settings.serve.grpc_port if grpc_port is None else grpc_port
        )
        os.environ["SHOPML_SERVE__HOST"] = host
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
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "loop": "uvloop",
        **uvicorn_limits(settings),
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": 30,
    }
    try:
        if workers > 1 and BALANCED:
            from uvicorn.supervisors import Multiprocess

            uv_config = uvicorn.Config("shopml.serve.server:create_app", **options)
            try:
                sock = ReusePortSocket.bind_to(host, port, uv_config.backlog)
            except OSError as exc:
                raise ConfigError(
                    f"serve.host/serve.port (--host/--port): cannot listen on {host}:{port}: "
                    f"{exc.strerror or exc}"
                ) from None
            with sock:
                Multiprocess(uv_config, sockets=[sock]).run()
        else:
            uvicorn.run("shopml.serve.server:create_app", **options)
    finally:
        main.__spec__ = main_spec
        if prom_dir is not None:
            shutil.rmtree(prom_dir, ignore_errors=True)
            os.environ.pop(_MULTIPROC, None)
