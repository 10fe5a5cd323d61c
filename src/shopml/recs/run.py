"""One recommender run end to end, as ``shopml train --task recs`` calls it: fit and evaluate every
model, publish the bundle, print the metrics table, the verdict and where things were written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopml.recs.evaluate import metric_names
from shopml.recs.train import RecsConfig, RecsResult, fit_and_evaluate, quick_config

if TYPE_CHECKING:
    from rich.console import Console

    from shopml.config import Workspace

__all__ = ["print_summary", "run_recs"]


def run_recs(
    data_dir: Path,
    *,
    quick: bool,
    seed: int | None,
    ws: Workspace,
    register: bool,
    tracking_uri: str | None,
    console: Console,
) -> RecsResult:
    """Train, evaluate, publish and print (``quick``: :func:`shopml.recs.train.quick_config`)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from shopml.recs.bundle import publish_recs

    cfg = quick_config(data_dir) if quick else RecsConfig(data_dir)
    if seed is not None:
        cfg = RecsConfig(**{**cfg.__dict__, "seed": seed})
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("recs", total=None)

        def say(message: str) -> None:
            bar.update(task, description=message)

        result = fit_and_evaluate(cfg, say)
        publish_recs(cfg, result, ws=ws, register=register, tracking_uri=tracking_uri, say=say)
    print_summary(cfg, result, console)
    return result


def print_summary(cfg: RecsConfig, result: RecsResult, console: Console) -> None:
    """The metrics table (with intervals), the verdict, the gap to the oracle and the paths."""
    from rich.table import Table

    names = metric_names(cfg.k)
    test = result.evaluations["gru"]
    table = Table(
        title=f"Test: last {cfg.test_days:g} days, {test.ranks.size:,} next items in "
        f"{len(set(test.session.tolist())):,} sessions, ranked among {len(result.split.items):,} items; "
        f"{cfg.level:.0%} session-bootstrap intervals"
    )
    table.add_column("model")
    for m in names:
        table.add_column(f"{m} [interval]", justify="right")
    for name, e in result.evaluations.items():
        cells: list[Any] = [
            f"{e.metrics[m].value:.4f} [{e.metrics[m].low:.4f}, {e.metrics[m].high:.4f}]" for m in names
        ]
        table.add_row(name, *cells)
    console.print(table)
    console.print(result.verdict)
    if "oracle" in result.evaluations:
        o, g = result.evaluations["oracle"].metrics, test.metrics
        console.print(
            "gap to the oracle bound: " + ", ".join(f"{m} {o[m].value - g[m].value:+.4f}" for m in names)
        )
    for note in result.notes:
        console.print(note)
    console.print(result.gru.selection_.summary())
    if result.parity is not None:
        p = result.parity
        console.print(
            f"ONNX parity on {p.sessions} held-out sessions: top-{p.k} identical, "
            f"max |Δ| {p.max_abs_diff:.2e}"
        )
    if result.version is not None:
        aliases = ", ".join(result.version.aliases) or "no alias"
        console.print(f"registered [bold]{cfg.name}[/] version {result.version.version} ({aliases})")
    console.print(f"bundle: {result.bundle_dir}\nreport: {result.report_path}")
