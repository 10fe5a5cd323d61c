"""What every command shares: the ``--workspace``/``--config`` options, settings and error mapping.

Only Typer is imported here at start-up: the Rich consoles, the settings model (pydantic) and the
library are imported on first use, so ``shopml --help`` does not pay for them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from shopml.errors import ShopmlError
from shopml.extras import missing_extra

if TYPE_CHECKING:
    from rich.console import Console

    from shopml.config import Settings, Workspace

    console: Console
    err_console: Console

__all__ = [
    "ConfigOption",
    "WorkspaceOption",
    "console",
    "err_console",
    "handle_errors",
    "resolve",
]

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


@functools.cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


def __getattr__(name: str) -> Any:
    """``console`` and ``err_console`` are made on first use (Rich's console costs ~50 ms to import)."""
    if name == "console":
        return _console(False)
    if name == "err_console":
        return _console(True)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve(workspace: Path | None = None, config: Path | None = None) -> tuple[Settings, Workspace]:
    """Load settings once and the workspace they point at (a ``--workspace`` flag wins)."""
    from shopml.config import Workspace, load_settings

    settings = load_settings(config, workspace=workspace)
    return settings, Workspace(settings.workspace)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`ShopmlError` into a one-line message and an exit code (2 for the user's
    mistakes, 1 for our own faults) instead of a traceback; a library of an optional extra that is
    not installed is named with the extra to install."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            try:
                return fn(*args, **kwargs)
            except ModuleNotFoundError as exc:
                raise missing_extra(exc) or exc from None
        except ShopmlError as exc:
            from rich.markup import escape

            message = f"[bold red]error:[/] {escape(exc.message)}"  # a message may hold [brackets]
            _console(True).print(message, highlight=False, soft_wrap=True)
            raise typer.Exit(2 if 400 <= exc.status < 500 else 1) from None

    return wrapper
