"""``shopml loop once|run|status|rollback``: the closed loop from the command line (thin shell)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.extras import require

if TYPE_CHECKING:
    from shopml.journal.events import Event
    from shopml.loop import Loop

__all__ = ["app"]

app = typer.Typer(
    rich_markup_mode=None,
    help="The retrain loop: triggers → challenger → gate → promotion, journalled and crash-safe.",
    no_args_is_help=True,
)

PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        "-p",
        help="Loop policy YAML (default: WORKSPACE/loop.yaml if present, else built-in defaults).",
    ),
]


def _loop(workspace: Path | None, config: Path | None, policy: Path | None) -> Loop:
    require("train", "monitor", what="shopml loop")
    from shopml.loop import Loop, load_policy

    _, ws = resolve(workspace, config)
    return Loop(ws, load_policy(policy, ws.root))


def _show(events: list[Event]) -> None:
    from shopml.cli.common import console

    for e in events:
        console.print(f"[bold]{e.ts:%Y-%m-%d %H:%M}[/] {e.kind:<9} {e.summary}", highlight=False)
        for link in e.links[-1:]:
            console.print(f"          report: {link}", highlight=False)


@app.command("once")
@handle_errors
def once(
    now: Annotated[str | None, typer.Option("--now", help="Pass time, ISO-8601 with zone (replays).")] = None,
    policy: PolicyOption = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """One pass (for cron/Airflow): resume an interrupted retrain, else evaluate the triggers and maybe
    retrain, gate and promote. Safe to kill at any point; the next pass recovers."""
    from shopml.cli.common import console
    from shopml.loop.clock import as_utc

    loop = _loop(workspace, config, policy)
    events = loop.step(as_utc(now, "--now") if now else None)
    _show(events)
    if not events:
        console.print("nothing to do")


@app.command("run")
@handle_errors
def run(
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=0.01, help="Seconds between passes [policy: interval_s]."),
    ] = None,
    max_passes: Annotated[
        int | None, typer.Option("--max-passes", min=1, help="Stop after N passes.")
    ] = None,
    policy: PolicyOption = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Long-running scheduler: a pass every INTERVAL seconds. SIGINT/SIGTERM finish the current pass and
    stop cleanly; a second signal stops at once (the journal makes that safe too)."""
    from shopml.cli.common import console

    loop = _loop(workspace, config, policy)
    wait = interval if interval is not None else loop.policy.interval_s
    stop = threading.Event()

    def _handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)
        stop.set()
        console.print(f"signal {signum}: stopping after this pass")

    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    passes = 0
    try:
        while not stop.is_set():
            _show(loop.step())
            passes += 1
            if max_passes is not None and passes >= max_passes:
                break
            stop.wait(wait)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    console.print(f"loop stopped after {passes} pass(es)")


@app.command("status")
@handle_errors
def status(
    policy: PolicyOption = None, workspace: WorkspaceOption = None, config: ConfigOption = None
) -> None:
    """The journal: retrain in flight, last retrain, recent outcomes."""
    from shopml.cli.common import console

    loop = _loop(workspace, config, policy)
    state = loop.state()
    current = state.current
    console.print(f"model: {loop.policy.model}; last retrain: {state.last_retrain_at or 'never'}")
    if current is not None:
        console.print(
            f"in flight: request {current.request.id} at step '{current.step}' ({current.request.summary})"
        )
    for h in state.history[-10:]:
        console.print(
            f"{h['time']}  {h['outcome']:<11} v{h['version']}  {', '.join(h['reasons'])}", highlight=False
        )


@app.command("rollback")
@handle_errors
def rollback(
    reason: Annotated[
        str, typer.Option("--reason", help="Why (recorded in the registry and the event).")
    ] = "",
    policy: PolicyOption = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Make the previous champion champion again and record a ``rollback`` event."""
    from shopml.loop import rollback as loop_rollback

    loop = _loop(workspace, config, policy)
    _show([loop_rollback(loop, reason or "manual rollback")])
