"""shopml: the production ML loop of an online shop — train, serve, watch for drift, retrain."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shopml")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
