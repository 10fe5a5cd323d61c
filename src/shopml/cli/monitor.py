"""``shopml monitor --model NAME``: drift, performance and stream detectors over the latest windows."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.extras import require

if TYPE_CHECKING:
    from shopml.monitor.performance.windows import WindowPerformance

__all__ = ["monitor"]


@handle_errors
def monitor(
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model to monitor.")],
    window: Annotated[str, typer.Option("--window", help="Window length: 1d, 12h, 1w.")] = "1d",
    now: Annotated[
        str | None,
        typer.Option("--now", help="End of the latest window, ISO time (default: now). For replays."),
    ] = None,
    history: Annotated[
        int | None, typer.Option("--history", min=1, help="Windows evaluated for performance [default 30].")
    ] = None,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Model bundle folder (default: the registry's champion).")
    ] = None,
    fail_on_alert: Annotated[
        bool,
        typer.Option("--fail-on-alert", help="Exit with code 1 when drift or a performance drop is found."),
    ] = False,
    html: Annotated[
        bool, typer.Option("--html/--no-html", help="Also write the HTML report (Plotly from plotly.min.js).")
    ] = True,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Check the latest window(s) of MODEL's prediction log: data drift against the reference profile,
    realised (matured windows) and estimated performance, label maturity and the error-stream detectors.
    Writes JSON and HTML reports under workspace/reports/monitor/ (the pages load Plotly from the
    plotly.min.js next to them) and appends events for problems."""
    require("monitor", what="shopml monitor")
    from shopml.cli.common import console
    from shopml.monitor.job import run_monitor

    settings, ws = resolve(workspace, config)
    result = run_monitor(ws, model, window, now, bundle=bundle, settings=settings, history=history, html=html)
    latest = result.windows[-1]
    style = {"ok": "green", "alert": "bold red"}.get(result.status, "yellow")
    console.print(
        f"[{style}]{result.status}[/]: {model}, {latest.rows} prediction(s) in the latest window, "
        f"label maturity {latest.maturity:.0%}"
    )
    if result.drift is not None:
        console.print(f"data drift: {result.drift.verdict} {result.drift.drifted_features or ''}")
    elif result.drift_note:
        console.print(f"data drift: {result.drift_note}")
    if latest.rows == 0 and result.log_end is not None and result.log_end < result.now - result.window:
        console.print(
            f"hint: the last logged prediction is at {result.log_end.isoformat()}; pass --now for a replay"
        )
    _print_realised(result.windows)
    for note in latest.notes:
        console.print(f"performance: {note}")
    for event in result.events:
        console.print(f"[bold]{event.severity}[/] {event.kind}: {event.summary}", highlight=False)
    if result.traffic is not None and result.traffic["requests"]:
        t = result.traffic
        p50, p99 = t["latency_p50_ms"], t["latency_p99_ms"]
        lat = "" if p50 is None else f", latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        console.print(f"traffic: {t['requests']} request(s){lat}")
    console.print(f"report: {result.html_path or result.json_path}")
    if fail_on_alert and result.alert:
        raise typer.Exit(1)


def _print_realised(windows: list[WindowPerformance]) -> None:
    """The latest window with realised metrics (labels in): each metric with its interval."""
    from shopml.cli.common import console

    done = [w for w in windows if w.realised]
    if not done:
        return
    w = done[-1]
    shown = [
        f"{name} {iv.value:.3f} [{iv.low:.3f}, {iv.high:.3f}]"
        for name, iv in (w.realised or {}).items()
        if math.isfinite(iv.value)
    ][:6]
    span = f"{w.start:%Y-%m-%d %H:%M}–{w.end:%Y-%m-%d %H:%M}"
    level = next(iter((w.realised or {}).values())).level
    console.print(
        f"realised ({span}, {w.labelled}/{w.rows} labelled, {level:.0%} intervals): " + ", ".join(shown),
        highlight=False,
    )
