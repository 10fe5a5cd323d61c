"""``shopml drift REFERENCE CURRENT``: compare two data sets (or a stored profile and a window)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.extras import require

if TYPE_CHECKING:
    from shopml.monitor import DriftReport

__all__ = ["drift"]


@handle_errors
def drift(
    reference: Annotated[Path, typer.Argument(help="Reference: Parquet/CSV file/folder or profile .json.")],
    current: Annotated[Path, typer.Argument(help="Current window: Parquet/CSV file or folder.")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the JSON report here.")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write the HTML report here.")] = None,
    fail_on_drift: Annotated[
        bool, typer.Option("--fail-on-drift", help="Exit 1 when the dataset verdict is 'drift'.")
    ] = False,
    schema_file: Annotated[
        Path | None, typer.Option("--schema", help="Schema YAML/JSON (default: the profile's, or inferred).")
    ] = None,
    drift_config: Annotated[
        Path | None,
        typer.Option(
            "--drift-config", help="Drift settings YAML (tests, thresholds, per-feature overrides)."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Test every feature for drift (corrected, with effect sizes), plus data quality, the score
    distribution and a domain classifier. Exit 0 ok, 1 drift (with --fail-on-drift), 2 bad usage."""
    require("monitor", what="shopml drift")
    from shopml.monitor import DriftConfig, compare
    from shopml.schema import Schema

    resolve(workspace, config)
    cfg = DriftConfig.from_yaml(drift_config) if drift_config else DriftConfig()
    schema = Schema.load(schema_file) if schema_file else None
    report = compare(reference, current, schema, config=cfg, progress=sys.stdout.isatty())
    report.save(json_out, html_out)
    _print(report)
    if fail_on_drift and report.is_drift:
        raise typer.Exit(1)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _print(report: DriftReport) -> None:
    from rich.table import Table

    from shopml.cli.common import console

    table = Table(title=f"drift: {report.verdict} ({report.n_reference} vs {report.n_current} rows)")
    for col in ("feature", "test", "statistic", "p adj.", "effect", "floor", "verdict", "new categories"):
        table.add_column(col)
    for f in [*report.features, *([report.prediction] if report.prediction else [])]:
        style = "bold red" if f.drifted else None
        table.add_row(
            f.name,
            f.test,
            _fmt(f.statistic),
            _fmt(f.p_adjusted),
            _fmt(f.effect_size),
            _fmt(f.min_effect),
            f.verdict,
            ", ".join(f.new_categories),
            style=style,
        )
    console.print(table)
    if report.multivariate is not None and report.multivariate.auc is not None:
        m = report.multivariate
        ci = f"[{_fmt(m.auc_low)}, {_fmt(m.auc_high)}]"
        console.print(f"domain classifier: AUC {m.auc:.3f} {ci} -> {m.verdict}", highlight=False)
    for q in report.quality:
        console.print(f"[yellow]quality[/] {q.check}: {q.message}", highlight=False)
    for reason in report.reasons:
        console.print(f"- {reason}", highlight=False)
