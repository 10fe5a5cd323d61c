"""``shopml train``: train a rare-class model, print metrics with intervals and the fit diagnosis."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.errors import ConfigError
from shopml.extras import require

if TYPE_CHECKING:
    from rich.table import Table

    from shopml.train import TrainConfig, TrainResult

__all__ = ["train"]

Imbalance = Literal["none", "class_weight", "undersample", "smote", "adasyn", "smote_tomek", "auto"]


def _config(
    data: Path | None, task: str | None, config: Path | None, overrides: dict[str, Any], default_data: Path
) -> TrainConfig:
    from shopml.train import load_train_config, preset

    if config is not None:
        return load_train_config(config, task=task, data_dir=data, **overrides)
    if task is None:
        raise ConfigError("give --task fraud|returns (with --data DIR), or a --train-config FILE")
    return preset(task, data if data is not None else default_data, **overrides)


def _split_config(config: Path | None, train_config: Path | None) -> tuple[Path | None, Path | None]:
    """(settings file, training YAML). ``--config`` names the settings file, as on every command; a
    training YAML given there (the flag's older meaning on this command) is still accepted, with a
    deprecation warning, when its keys are training keys and not settings keys."""
    from shopml.cli.common import err_console
    from shopml.config import Settings, read_yaml
    from shopml.train import TrainConfig

    if config is None or train_config is not None or not config.is_file():
        return config, train_config
    keys = set(read_yaml(config, what="settings"))
    if keys and not keys <= set(Settings.model_fields) and keys & set(TrainConfig.model_fields):
        err_console.print(
            f"[yellow]warning:[/] {config} is a training config; `shopml train --config` names the "
            "settings file (as on every command) — pass the training YAML as --train-config",
            highlight=False,
            soft_wrap=True,
        )
        return None, config
    return config, train_config


def _metrics_table(result: TrainResult, level: float) -> Table:
    from rich.table import Table

    from shopml.train import METRICS

    table = Table(title=f"Test period (out-of-time), {level:.0%} bootstrap intervals")
    table.add_column("metric")
    table.add_column("model [interval]", justify="right")
    table.add_column("logistic baseline [interval]", justify="right")
    for k in METRICS:
        m, b = result.metrics[k], result.baseline[k]
        table.add_row(
            k, f"{m.value:.4f} [{m.low:.4f}, {m.high:.4f}]", f"{b.value:.4f} [{b.low:.4f}, {b.high:.4f}]"
        )
    return table


def _imbalance_table(rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title="Imbalance strategies (validation PR-AUC; best kept)")
    for col in ("strategy", "PR-AUC", "interval", "Brier (raw)", "fit s"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for r in rows:
        mark = " ✓" if r.get("selected") else ""
        if "error" in r:
            table.add_row(r["strategy"], "failed", r["error"][:60], "", "")
            continue
        table.add_row(
            r["strategy"] + mark,
            f"{r['pr_auc']:.4f}",
            f"[{r['pr_auc_low']:.4f}, {r['pr_auc_high']:.4f}]",
            f"{r['brier_raw']:.5f}",
            f"{r['fit_seconds']:.1f}",
        )
    return table


@handle_errors
def train(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Simulator output folder [default: <workspace>/data/world]."),
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(
            "--task",
            help="Preset: fraud | returns | recs | images | text (overlaid by --train-config if both).",
        ),
    ] = None,
    train_config: Annotated[
        Path | None,
        typer.Option("--train-config", help="Training config YAML (your own table, target, ...)."),
    ] = None,
    imbalance: Annotated[
        Imbalance | None, typer.Option("--imbalance", help="Imbalance strategy; 'auto' compares all.")
    ] = None,
    objective: Annotated[
        Literal["f1", "cost"] | None, typer.Option("--objective", help="Threshold objective.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="recs, images, text: a small model on a subset, under 2 minutes.")
    ] = False,
    text_target: Annotated[
        str | None,
        typer.Option("--text-target", help="text: category (products) | return_reason (reviews) | intent."),
    ] = None,
    no_register: Annotated[
        bool, typer.Option("--no-register", help="Write the bundle but do not register it.")
    ] = False,
    settings: Annotated[
        Path | None, typer.Option("--settings", hidden=True, help="Deprecated: use --config.")
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Train on the past, validate and test out of time, calibrate, pick the threshold, export ONNX
    (parity-checked), write the HTML report and register the bundle (first version = champion)."""
    require("train", what="shopml train")
    if task == "text":
        from shopml.cli.train_text import train_text_command

        train_text_command(
            data,
            quick=quick,
            seed=seed,
            target=text_target,
            register=not no_register,
            workspace=workspace,
            config=config,
        )
        return
    if task == "images":
        from shopml.cli.nn import train_images_command

        train_images_command(
            data, quick=quick, seed=seed, register=not no_register, workspace=workspace, config=config
        )
        return
    from rich.panel import Panel
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from shopml.cli.common import console
    from shopml.train import train as train_model

    settings_file, train_config = _split_config(config or settings, train_config)
    cfg_settings, ws = resolve(workspace, settings_file)
    if task == "recs":
        from shopml.cli.common import console
        from shopml.recs.run import run_recs

        home = data if data is not None else ws.data_dir / "world"
        run_recs(
            home,
            quick=quick,
            seed=seed,
            ws=ws.ensure(),
            register=not no_register,
            tracking_uri=cfg_settings.mlflow_uri,
            console=console,
        )
        return
    given = {"imbalance": imbalance, "objective": objective, "seed": seed}
    overrides = {k: v for k, v in given.items() if v is not None}
    cfg = _config(data, task, train_config, overrides, ws.data_dir / "world")
    n_strategies = 6 if cfg.imbalance == "auto" else 1
    total = 1 + n_strategies + cfg.search.n_trials - 1 + 3 + (0 if no_register else 1)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        bar = progress.add_task("training", total=total)

        def step(message: str) -> None:
            progress.update(bar, advance=1, description=message)

        result = train_model(
            cfg,
            workspace=ws.ensure(),
            register=not no_register,
            tracking_uri=cfg_settings.mlflow_uri,
            step=step,
        )
        progress.update(bar, completed=total, description="done")
    console.print(_metrics_table(result, cfg.level))
    if len(result.imbalance_table) > 1:
        console.print(_imbalance_table(result.imbalance_table))
    d = result.diagnosis
    colour = {"good fit": "green", "overfit": "yellow", "underfit": "yellow"}[d.verdict]
    console.print(Panel(d.summary(), title=f"diagnosis: [{colour}]{d.verdict}[/]", expand=False))
    console.print(
        f"strategy [bold]{result.strategy}[/], calibration {result.calibration}, threshold "
        f"{result.threshold:.4f} ({result.objective}); ONNX parity max |Δ| {result.parity_max_abs_diff:.2e}"
    )
    if result.version is not None:
        aliases = ", ".join(result.version.aliases) or "no alias"
        console.print(f"registered [bold]{result.name}[/] version {result.version.version} ({aliases})")
    console.print(f"bundle: {result.bundle_dir}\nreport: {result.report_path}")
