"""What every command shares: the ``--workspace``/``--config`` options, settings and error mapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from shopml.config import Settings, Workspace, load_settings
from shopml.errors import ShopmlError

__all__ = [
    "ConfigOption",
    "WorkspaceOption",
    "console",
    "err_console",
    "handle_errors",
    "resolve",
]

console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace folder holding all state [env: SHOPML_WORKSPACE; default ./workspace].",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Settings YAML [env: SHOPML_CONFIG; default ./shopml.yaml if present].",
        show_default=False,
    ),
]

P = ParamSpec("P")
R = TypeVar("R")


def resolve(workspace: Path | None = None, config: Path | None = None) -> tuple[Settings, Workspace]:
    """Load settings once and the workspace they point at (a ``--workspace`` flag wins)."""
    settings = load_settings(config, workspace=workspace)
    return settings, Workspace(settings.workspace)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`ShopmlError` into a one-line message and an exit code (2 for the user's
    mistakes, 1 for our own faults) instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return fn(*args, **kwargs)
        except ShopmlError as exc:
            err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
            raise typer.Exit(2 if 400 <= exc.status < 500 else 1) from None

    return wrapper
