"""``shopml simulate``: write a seeded e-commerce world (transactions, orders, label feeds, drift log)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.simulate.names import SCENARIOS

if TYPE_CHECKING:
    from rich.console import Console

    from shopml.simulate import SimulationResult

__all__ = ["print_summary", "simulate_command"]

_SCENARIO_HELP = "Drift scenario: " + ", ".join(SCENARIOS) + "."


@handle_errors
def simulate_command(
    days: Annotated[int, typer.Option("--days", help="Days to simulate.")] = 90,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed [default: settings.seed].")] = None,
    scenario: Annotated[str, typer.Option("--scenario", help=_SCENARIO_HELP)] = "none",
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder [default: <workspace>/data/world].")
    ] = None,
    customers: Annotated[int, typer.Option("--customers", help="Customers in the base population.")] = 20_000,
    start: Annotated[
        datetime | None,
        typer.Option("--start", formats=["%Y-%m-%d"], help="First day [default: 2025-03-03]."),
    ] = None,
    onset: Annotated[int | None, typer.Option("--onset", help="Scenario onset day (0-based).")] = None,
    length: Annotated[int | None, typer.Option("--length", help="Scenario length in days.")] = None,
    magnitude: Annotated[float | None, typer.Option("--magnitude", help="Scenario strength.")] = None,
    variant: Annotated[str, typer.Option("--variant", help="data_quality variant: unit or nulls.")] = "unit",
    fraud_rate: Annotated[
        float, typer.Option("--fraud-rate", help="Share of fraudulent transactions.")
    ] = 0.005,
    return_rate: Annotated[
        float, typer.Option("--return-rate", help="Share of orders that are high-value returns.")
    ] = 0.02,
    session_rate: Annotated[
        float,
        typer.Option(
            "--session-rate", help="Browsing sessions per customer per day (0: no sessions, items)."
        ),
    ] = 0.03,
    images: Annotated[
        int, typer.Option("--images", help="Product photos per category under images/ (0: none).")
    ] = 0,
    texts: Annotated[
        int,
        typer.Option(
            "--texts", help="Product listings, reviews and search queries per day under texts/ (0: none)."
        ),
    ] = 0,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Simulate a shop: transactions with fraud, orders with returns, delayed label feeds, a drift
    scenario and its ground-truth drift_log.json. Same seed and options give byte-identical files."""
    from shopml.cli.common import console
    from shopml.simulate import simulate

    settings, ws = resolve(workspace, config)
    result = simulate(
        out or ws.data_dir / "world",
        days=days,
        seed=settings.seed if seed is None else seed,
        scenario=scenario,
        customers=customers,
        start=start.date() if start else None,
        onset=onset,
        length=length,
        magnitude=magnitude,
        variant=variant,
        fraud_rate=fraud_rate,
        return_rate=return_rate,
        session_rate=session_rate,
        images=images,
        texts=texts,
        progress=True,
    )
    print_summary(result, console)


def print_summary(result: SimulationResult, out: Console) -> None:
    """A readable summary of a simulated world."""
    from rich.table import Table

    p = result.params
    table = Table(title=f"simulated world: {p.days} days from {p.start}, seed {p.seed}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("positives", justify="right")
    table.add_column("rate", justify="right")
    table.add_row(
        "transactions", f"{result.rows['transactions']:,}", f"{result.fraud:,}", f"{result.fraud_rate:.3%}"
    )
    hv = result.high_value_returns
    table.add_row("orders", f"{result.rows['orders']:,}", f"{hv:,}", f"{result.return_rate:.3%}")
    table.add_row("labels/fraud", f"{result.rows['labels/fraud']:,}", "", "")
    table.add_row("labels/returns", f"{result.rows['labels/returns']:,}", "", "")
    for name in ("sessions", "items", "texts/products", "texts/reviews", "texts/queries"):
        if name in result.rows:
            table.add_row(name, f"{result.rows[name]:,}", "", "")
    out.print(table)
    patterns = ", ".join(f"{k} {v:,}" for k, v in result.fraud_patterns.items())
    out.print(f"fraud patterns: {patterns}")
    window = f"from day {p.onset}" + (f" for {p.length} days" if p.length else "")
    scenario = p.scenario if p.scenario == "none" else f"{p.scenario} {window}, magnitude {p.magnitude}"
    out.print(f"scenario: {scenario} — {SCENARIOS[p.scenario]}")
    out.print(f"written to {result.out_dir} in {result.seconds:.1f} s (manifest.json, drift_log.json)")
