"""``shopml dashboard``: write the team's HTML page from what the workspace recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.extras import require

__all__ = ["dashboard"]


@handle_errors
def dashboard(
    model: Annotated[str, typer.Option("--model", "-m", help="Model whose loop to show.")] = "fraud",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file [default: WORKSPACE/reports/dashboard.html]"),
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Write one self-contained HTML page: model versions, drift and performance events, monitored
    performance with label maturity, gate decisions and the timeline."""
    require("monitor", what="shopml dashboard")
    from shopml.cli.common import console
    from shopml.dashboard import collect_dashboard, write_dashboard

    _, ws = resolve(workspace, config)
    data = collect_dashboard(ws, model)
    path = write_dashboard(data, out or ws.reports_dir / "dashboard.html")
    console.print(f"dashboard for '{model}': {len(data.timeline)} events, {len(data.days)} monitored windows")
    console.print(f"written to [bold]{path}[/]")
