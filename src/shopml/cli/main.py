"""The ``shopml`` application: global options and the command table."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    name="shopml",
    help="shopml: train, serve, watch and retrain an online shop's models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from shopml import __version__

        typer.echo(f"shopml {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """shopml: train, serve, watch and retrain an online shop's models."""


from shopml.cli import labels as _labels  # noqa: E402

app.add_typer(_labels.app, name="labels")

from shopml.cli import serve as _serve  # noqa: E402

app.command("serve")(_serve.serve)

from shopml.cli import train as _train  # noqa: E402

app.command("train")(_train.train)

from shopml.cli import monitor as _monitor  # noqa: E402

app.command("monitor")(_monitor.monitor)

from shopml.cli import drift as _drift  # noqa: E402

app.command("drift")(_drift.drift)

from shopml.cli import loop as _loop  # noqa: E402

app.add_typer(_loop.app, name="loop")

from shopml.cli import dashboard as _dashboard  # noqa: E402

app.command("dashboard")(_dashboard.dashboard)

from shopml.cli import models as _models  # noqa: E402

app.add_typer(_models.app, name="models")

from shopml.cli import nn as _nn  # noqa: E402

app.add_typer(_nn.app, name="nn")

from shopml.cli import demo as _demo  # noqa: E402
from shopml.cli import simulate as _simulate  # noqa: E402

app.command("simulate")(_simulate.simulate_command)
app.command("demo")(_demo.demo)
