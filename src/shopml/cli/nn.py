"""``shopml nn``: neural-network diagnostics; and ``shopml train --task images``'s run and summary."""

from __future__ import annotations

from pathlib import Path

import typer

from shopml.cli.common import resolve
from shopml.extras import require

__all__ = ["app", "train_images_command"]

app = typer.Typer(
    help="Neural networks: training problems shown and cured, with numbers.", no_args_is_help=True
)


def train_images_command(
    data: Path | None,
    *,
    quick: bool,
    seed: int | None,
    register: bool,
    workspace: Path | None,
    config: Path | None,
) -> None:
    """Train the product-photo CNN with baselines; print metrics, the review threshold and diagnoses."""
    require("nn", what="shopml train --task images")
    from rich.panel import Panel
    from rich.table import Table

    from shopml.cli.common import console
    from shopml.images import ImagesConfig, train_images
    from shopml.images.report import metric_rows

    settings, ws = resolve(workspace, config)
    cfg = ImagesConfig.make(quick=quick, data=data, seed=seed)
    with console.status("training the photo classifier") as status:
        result = train_images(
            cfg,
            ws=ws.ensure(),
            register=register,
            tracking_uri=settings.mlflow_uri,
            say=lambda m: status.update(m),
        )
    run = result.run
    table = Table(title=f"Test photos ({len(run.data.test_y)}), {cfg.level:.0%} bootstrap intervals")
    rows = metric_rows(run)
    for col in rows[0]:
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in r.values()))
    console.print(table)
    v, t = run.review["validation"], run.review.get("test") or {}
    if t:
        console.print(
            f"auto-assign at confidence ≥ {v['threshold']:.4f} ({run.review['target']:.0%} precision on "
            f"validation): test coverage {t['coverage']:.1%}, precision {t['precision']:.2%}"
        )
    else:
        console.print(f"no threshold reaches {run.review['target']:.0%} precision on validation")
    console.print(
        f"ECE {run.ece:.4f}; CNN training {run.train_seconds:.0f} s, peak memory {run.peak_memory_mb:.0f} MB"
    )
    console.print(Panel(run.fit.summary(), title="guarded training", expand=False))
    console.print(f"ONNX parity max |Δ| {result.parity_max_abs_diff:.2e}")
    if result.version is not None:
        aliases = ", ".join(result.version.aliases) or "no alias"
        console.print(f"registered [bold]{cfg.name}[/] version {result.version.version} ({aliases})")
    console.print(f"bundle: {result.bundle_dir}\nreport: {result.report_path}")
