"""``shopml nn``: neural-network diagnostics; and ``shopml train --task images``'s run and summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.extras import require

__all__ = ["app", "gradients", "train_images_command"]

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
    # steps are printed, not shown in a status line: the training loop draws its own progress bar
    result = train_images(
        cfg,
        ws=ws.ensure(),
        register=register,
        tracking_uri=settings.mlflow_uri,
        say=lambda m: console.print(f"[dim]{m}[/]", highlight=False),
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


@app.command("gradients")
@handle_errors
def gradients(
    quick: Annotated[bool, typer.Option("--quick", help="Short sequences and few steps (seconds).")] = False,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON summary here.")] = None,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="HTML report [default: <workspace>/reports/nn-gradients.html]."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Run the gradient experiments: vanishing gradients in recurrent nets (tanh RNN vs GRU vs LSTM),
    exploding gradients with and without clipping, depth (plain vs batch norm vs residual) and
    overfitting (dropout, augmentation, early stopping); write the HTML report and the JSON summary."""
    require("nn", "train", what="shopml nn gradients")
    import json

    from shopml.cli.common import console
    from shopml.nn.experiments import run_experiments

    _, ws = resolve(workspace, config)
    with console.status("running the gradient experiments") as status:
        found = run_experiments(quick=quick, seed=seed, say=lambda m: status.update(m))
    html_path = html_out or ws.ensure().reports_dir / "nn-gradients.html"
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(found.to_html(), encoding="utf-8")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(found.to_dict(), indent=2) + "\n", encoding="utf-8")
    for line in found.summary_lines():
        console.print(line, highlight=False)
    console.print(f"report: {html_path}" + (f"\njson: {json_out}" if json_out else ""))
