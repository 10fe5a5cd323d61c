"""``shopml demo``: the whole loop end to end on a simulated shop (see :mod:`shopml.demo`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.extras import require

__all__ = ["demo"]


@handle_errors
def demo(
    scenario: Annotated[
        str, typer.Option("--scenario", help="Drift scenario (see `shopml simulate --help`).")
    ] = "sudden_covariate",
    days: Annotated[int, typer.Option("--days", min=30, max=365, help="Days to simulate.")] = 90,
    onset: Annotated[int, typer.Option("--onset", min=1, help="Day the drift starts.")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated world.")] = 7,
    customers: Annotated[
        int,
        typer.Option(
            "--customers", min=1000, help="Customers in the simulated shop (~0.9 frauds/day per 1k)."
        ),
    ] = 8_000,
    compare: Annotated[
        bool, typer.Option("--compare/--no-compare", help="Also run the never/weekly comparison policies.")
    ] = True,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="'recs': the recommender's loop on a new-items surge instead (two weeks of browsing,"
            " triggered vs daily vs never; --seed applies, the other world options are the fraud demo's).",
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Simulate ~90 days with drift from day 60, train the first champion, serve it for real, replay the
    later traffic over HTTP with delayed labels, monitor daily, retrain/gate/promote/hot-swap, compare
    three retraining policies and write the dashboard (all under WORKSPACE/demo)."""
    require("train", "monitor", what="shopml demo")
    from rich.table import Table

    from shopml.cli.common import console
    from shopml.demo import DemoConfig, run_demo

    _, ws = resolve(workspace, config)
    if task is not None:
        _task_demo(task, seed, ws.root)
        return
    if onset >= days:
        raise typer.BadParameter(f"--onset {onset} must be before --days {days}")
    cfg = DemoConfig(
        scenario=scenario, days=days, onset=onset, seed=seed, compare=compare, customers=customers
    )
    result = run_demo(ws.root, cfg, console)
    table = Table(title="Outcomes")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for k, v in result.outcomes.items():
        table.add_row(k, str(v))
    console.print(table)
    if result.policy_table:
        vs = "PR-AUC vs never, onset→end [95% CI]"
        pt = Table(title="Retraining policies on the same period")
        for col in (c for c in result.policy_table[0] if c != vs):
            pt.add_column(col, justify="right" if col != "policy" else "left")
        for row in result.policy_table:
            pt.add_row(*(str(v) for k, v in row.items() if k != vs))
        console.print(pt)
        for row in result.policy_table[1:]:  # too wide for the table: one line per policy
            console.print(f"{row['policy']}: {vs} {row.get(vs, '–')}")
    console.print(f"dashboard: [bold]{result.dashboard}[/]  ({result.seconds:.0f}s in all)")


def _task_demo(task: str, seed: int, root: Any) -> None:
    """``--task``: another model's loop (``recs``: :mod:`shopml.demo.recs`)."""
    from rich.table import Table

    from shopml.cli.common import console
    from shopml.demo.recs import RecsDemoConfig, run_recs_demo

    if task != "recs":
        raise typer.BadParameter(f"--task must be 'recs' (or left out for the fraud loop), got {task!r}")
    result = run_recs_demo(root, RecsDemoConfig(seed=seed), console)
    table = Table(title="Outcomes")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for k, v in result.outcomes.items():
        table.add_row(k, str(v))
    console.print(table)
    pt = Table(title="Retraining policies on the same days")
    for col in result.policy_table[0]:
        pt.add_column(col, justify="right" if col != "policy" else "left")
    for row in result.policy_table:
        pt.add_row(*(str(v) for v in row.values()))
    console.print(pt)
    console.print(f"dashboard: [bold]{result.dashboard}[/]  ({result.seconds:.0f}s in all)")
