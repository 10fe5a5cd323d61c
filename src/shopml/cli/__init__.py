"""The ``shopml`` command line (Typer): thin commands that parse arguments and call the library."""

__all__: list[str] = []
