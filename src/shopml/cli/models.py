"""``shopml models``: list, inspect, promote and roll back registered models (thin over the registry)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from shopml.cli.common import ConfigOption, WorkspaceOption, console, handle_errors, resolve
from shopml.errors import ConfigError
from shopml.registry import ModelVersionInfo, Registry

__all__ = ["app"]

app = typer.Typer(
    help="List, inspect, promote and roll back registered models (MLflow registry).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

NameArg = Annotated[str, typer.Argument(help="Registered model name, e.g. 'fraud'.", show_default=False)]
ReasonOption = Annotated[
    str, typer.Option("--reason", "-r", help="Why: recorded in the history and the event log.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
HEADLINE = ("pr_auc", "roc_auc", "f1", "brier")


def _registry(workspace: Any, config: Any) -> Registry:
    settings, _ = resolve(workspace, config)
    return Registry.from_settings(settings)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _short(number: str | None) -> str:
    """A tag holding a number, to 3 significant digits."""
    try:
        return f"{float(number):.3g}" if number is not None else "-"
    except ValueError:
        return number or "-"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _headline(metrics: dict[str, float]) -> dict[str, float]:
    """The headline metrics: ``pr_auc`` etc., or the shortest key ending in it (``test.pr_auc``)."""
    out: dict[str, float] = {}
    for name in HEADLINE:
        keys = sorted((k for k in metrics if k == name or k.endswith(("." + name, "_" + name))), key=len)
        if keys:
            out[name] = metrics[keys[0]]
    return out


@app.command("list")
@handle_errors
def list_models(
    workspace: WorkspaceOption = None, config: ConfigOption = None, as_json: JsonOption = False
) -> None:
    """List registered models with their champion, challenger and number of versions."""
    registry = _registry(workspace, config)
    models = registry.list_models()
    if as_json:
        typer.echo(json.dumps([m.to_dict() for m in models], indent=2))
        return
    if not models:
        console.print(
            f"No models registered in {registry.tracking_uri}. Train one: [bold]shopml train --task fraud[/]"
        )
        return
    table = _table(f"Registered models ({registry.tracking_uri})")
    for col in ("model", "task", "versions", "champion", "challenger", "previous", "updated"):
        table.add_column(col, justify="right" if col in ("versions",) else "left")
    for m in models:
        ver = {k: f"v{v}" for k, v in m.aliases.items()}
        table.add_row(
            m.name,
            m.tags.get("shopml.task", "-"),
            str(m.n_versions),
            ver.get("champion", "-"),
            ver.get("challenger", "-"),
            ver.get("previous_champion", "-"),
            _when(m.updated_at),
        )
    console.print(table)


def _versions_table(name: str, versions: list[ModelVersionInfo]) -> Table:
    table = _table(f"Versions of '{name}'")
    for col in ("version", "aliases", "created", *HEADLINE, "thr."):
        right = col in (*HEADLINE, "version", "thr.")
        table.add_column(col, justify="right" if right else "left", no_wrap=col in ("version", "aliases"))
    for v in versions:
        head = _headline(v.metrics)
        table.add_row(
            f"v{v.version}",
            ", ".join(v.aliases) or "-",
            _when(v.created_at)[:10],
            *(f"{head[k]:.3f}" if k in head else "-" for k in HEADLINE),
            _short(v.tags.get("shopml.threshold")),
        )
    return table


def _history_table(name: str, history: list[dict[str, Any]]) -> Table:
    table = _table(f"Champion history of '{name}'")
    for col in ("when", "action", "champion", "previous", "reason"):
        table.add_column(col)
    for h in history:
        prev = h.get("previous")
        table.add_row(
            h["ts"][:16].replace("T", " "),
            h["action"],
            f"v{h['version']}",
            f"v{prev}" if prev else "-",
            h.get("reason") or "",
        )
    return table


def _version_detail(v: ModelVersionInfo) -> None:
    aliases = ", ".join(v.aliases) or "-"
    console.print(f"[bold]{v.name}[/] v{v.version}  aliases: {aliases}  created: {_when(v.created_at)}")
    console.print(f"run: {v.run_id}\nsource: {v.source}")
    metrics = _table("Metrics")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    for key, number in sorted(v.metrics.items()):
        metrics.add_row(key, f"{number:.6g}")
    tags = _table("Tags and lineage")
    tags.add_column("tag")
    tags.add_column("value", overflow="fold")
    for key, value in sorted(v.tags.items()):
        tags.add_row(key, value)
    console.print(metrics, tags)


@app.command("show")
@handle_errors
def show(
    name: NameArg,
    version: Annotated[int | None, typer.Option("--version", "-v", help="Show this version.", min=1)] = None,
    alias: Annotated[
        str | None, typer.Option("--alias", "-a", help="Show the version this alias names.")
    ] = None,
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a model's versions and champion history, or one version's metrics, tags and lineage."""
    if version is not None and alias is not None:
        raise ConfigError(f"give --version or --alias, not both (got --version {version} --alias {alias})")
    registry = _registry(workspace, config)
    if version is None and alias is None:
        versions = registry.versions(name)
        history = registry.history(name)
        if as_json:
            data = {"name": name, "versions": [v.to_dict() for v in versions], "history": history}
            typer.echo(json.dumps(data, indent=2))
            return
        console.print(_versions_table(name, versions), _history_table(name, history))
        return
    info = registry.resolve(name, version if version is not None else str(alias))
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2))
        return
    _version_detail(info)


@app.command("promote")
@handle_errors
def promote(
    name: NameArg,
    version: Annotated[int, typer.Argument(help="The version to make champion.", min=1, show_default=False)],
    reason: ReasonOption = "",
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Make VERSION the champion of NAME; the old champion is kept for `shopml models rollback`."""
    from shopml.journal import EventStore
    from shopml.journal import promote as promote_champion

    registry = _registry(workspace, config)
    move = promote_champion(registry, EventStore(registry.workspace), name, version, reason=reason)
    if not move.changed:
        console.print(f"{name}: v{move.version} is already the champion; nothing changed")
        return
    old = f"v{move.previous}" if move.previous is not None else "none"
    console.print(
        f"{name}: champion {old} → [bold green]v{move.version}[/]" + (f" ({reason})" if reason else "")
    )


@app.command("rollback")
@handle_errors
def rollback(
    name: NameArg,
    reason: ReasonOption = "",
    workspace: WorkspaceOption = None,
    config: ConfigOption = None,
) -> None:
    """Restore the previous champion of NAME; run again to go further back."""
    from shopml.journal import EventStore
    from shopml.journal import rollback as rollback_champion

    registry = _registry(workspace, config)
    move = rollback_champion(registry, EventStore(registry.workspace), name, reason=reason)
    console.print(
        f"{name}: champion v{move.previous} → [bold yellow]v{move.version}[/] (rolled back)"
        + (f" ({reason})" if reason else "")
    )
