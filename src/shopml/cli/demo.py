"""``shopml demo``: simulate a default world into the workspace and summarise it."""

from __future__ import annotations

from typing import Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, console, handle_errors, resolve
from shopml.cli.simulate import print_summary
from shopml.simulate import simulate

__all__ = ["demo"]


@handle_errors
def demo(
    days: Annotated[int, typer.Option("--days", help="Days to simulate.")] = 90,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Simulate a default world (a new market opens on day 60 of 90) into <workspace>/data/world."""
    settings, ws = resolve(workspace, config)
    ws.ensure()
    result = simulate(
        ws.data_dir / "world",
        days=days,
        seed=settings.seed,
        scenario="sudden_covariate",
        onset=min(60, days - 1),
        progress=True,
    )
    print_summary(result, console)
