"""``shopml train --task text``'s run and summary."""

from __future__ import annotations

from pathlib import Path

from shopml.cli.common import resolve
from shopml.extras import require

__all__ = ["train_text_command"]


def train_text_command(
    data: Path | None,
    *,
    quick: bool,
    seed: int | None,
    target: str | None,
    register: bool,
    workspace: Path | None,
    config: Path | None,
) -> None:
    """Fine-tune and distil the text encoder with baselines; print metrics, the speed table, parity."""
    require("nn", what="shopml train --task text")
    require("text", what="shopml train --task text")
    from rich.table import Table

    from shopml.cli.common import console
    from shopml.text import TextConfig, train_text
    from shopml.text.report import metric_rows, speed_rows

    settings, ws = resolve(workspace, config)
    cfg = TextConfig.make(quick=quick, data=data or ws.data_dir / "world", seed=seed, target=target)
    result = train_text(
        cfg,
        ws=ws.ensure(),
        register=register,
        tracking_uri=settings.mlflow_uri,
        say=lambda m: console.print(f"[dim]{m}[/]", highlight=False),
    )
    run = result.run
    n = len(run.data.test_y)
    for title, rows in (
        (f"Held-out test texts ({n}), {cfg.level:.0%} bootstrap intervals", metric_rows(run)),
        ("Speed (one thread) and accuracy", speed_rows(run)),
    ):
        table = Table(title=title)
        for col in rows[0]:
            table.add_column(col, justify="left" if col == "model" else "right")
        for r in rows:
            table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in r.values()))
        console.print(table)
    q = run.quant_parity
    console.print(
        f"INT8 parity: accuracy drop {q.accuracy_drop_points:.2f} points, "
        f"embedding cosine {q.cosine_mean:.4f} "
        f"({'passed' if q.passed else 'failed: the fp32 student is served'}); served: {run.served}"
    )
    console.print(f"teacher: {run.teacher_fit.summary()}")
    if result.version is not None:
        aliases = ", ".join(result.version.aliases) or "no alias"
        console.print(f"registered [bold]{cfg.name}[/] version {result.version.version} ({aliases})")
    console.print(f"bundle: {result.bundle_dir}\nreport: {result.report_path}")
