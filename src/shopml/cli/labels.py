"""``shopml labels ingest FILE --model NAME``: store delayed labels and join them to predictions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopml.cli.common import ConfigOption, WorkspaceOption, handle_errors, resolve
from shopml.errors import DataError

__all__ = ["app", "ingest"]

app = typer.Typer(
    rich_markup_mode=None,
    help="Delayed labels (chargebacks, returns): ingest and join to predictions.",
    no_args_is_help=True,
)


@app.command("ingest")
@handle_errors
def ingest(
    file: Annotated[Path, typer.Argument(help="Label file (.parquet or .csv) or a folder of them.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model the labels belong to.")],
    bundle: Annotated[
        Path | None,
        typer.Option("--bundle", help="Model bundle folder (default: the registry's champion)."),
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Validate FILE (key: request_id or the model's business key; label: the model's target;
    optional label_available_at, default now), store it and report how many labels matched predictions."""
    from shopml.cli.common import console
    from shopml.kinds import get_kind
    from shopml.logstore import ingest_labels
    from shopml.monitor.bundles import resolve_bundle

    settings, ws = resolve(workspace, config)
    if not file.exists():
        raise DataError(f"label file {file} does not exist")
    meta = resolve_bundle(ws, model, bundle, settings.mlflow_uri).meta
    if not meta.target:
        raise DataError(f"model '{model}' has no target column in its bundle; cannot ingest labels")
    kind = get_kind(meta.kind)
    result = ingest_labels(
        ws,
        model,
        file,
        label_column=meta.target,
        id_column=meta.id_column,
        kind=kind,
        meta=meta.model_dump(by_alias=True),
    )
    what = f" ({result.positives} positive)" if kind.rare_class else ""
    console.print(
        f"stored {result.rows} {kind.name} label(s){what} keyed on '{result.key_column}' → {result.path}"
    )
    share = result.matched / result.rows
    style = "green" if share > 0.5 else "yellow"
    console.print(f"[{style}]{result.matched} of {result.rows} matched logged predictions ({share:.1%})[/]")
