"""``shopml serve``: the inference server (thin: parse flags, call :func:`shopml.serve.run`)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve

__all__ = ["serve"]


@handle_errors
def serve(
    port: Annotated[int | None, typer.Option("--port", "-p", help="TCP port [default: serve.port].")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Bind address [default: serve.host].")] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, max=64, help="Worker processes [default: serve.workers]."),
    ] = None,
    grpc_port: Annotated[
        int | None,
        typer.Option(
            "--grpc-port",
            min=0,
            max=65535,
            help="Also serve OIP v2 over gRPC on this port (0: off) [default: serve.grpc_port].",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the champion of every registered model (OIP v2 + /v1 REST, /metrics; OIP v2 gRPC with
    --grpc-port) until SIGTERM."""
    from shopml.serve import run

    settings, _ = resolve(workspace, config)
    s = settings.serve
    run(
        settings,
        host=host or s.host,
        port=s.port if port is None else port,
        workers=workers or s.workers,
        config=config,
        grpc_port=grpc_port,
    )
